//! The instrumented function: what shape it has, and how its body is run so that the value it
//! returns (through `return`, `?` or its tail) is seen before it leaves.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Attribute, Block, Expr, FnArg, Item, ItemFn, Pat, ReturnType, Stmt, TraitItemFn, Type};

/// The function an attribute is on.
pub struct Func {
    pub item: ItemFn,
}

impl Func {
    /// Parses the item, refusing what is not an instrumentable function.
    pub fn parse(tokens: TokenStream, macro_name: &str) -> syn::Result<Func> {
        let item = match syn::parse2::<Item>(tokens.clone()) {
            Ok(Item::Fn(f)) => f,
            parsed => {
                // A trait method without a body parses as an opaque item.
                if let Ok(f) = syn::parse2::<TraitItemFn>(tokens) {
                    if f.default.is_none() {
                        return Err(syn::Error::new(
                            f.sig.ident.span(),
                            format!(
                                "#[{macro_name}] needs a function with a body; put it on the \
                                 implementations of `{}`",
                                f.sig.ident
                            ),
                        ));
                    }
                }
                return Err(match parsed {
                    Ok(other) => syn::Error::new(
                        item_keyword_span(&other),
                        format!(
                            "#[{macro_name}] applies to functions and methods, not to this item"
                        ),
                    ),
                    Err(e) => e,
                });
            }
        };
        if let Some(c) = &item.sig.constness {
            return Err(syn::Error::new(
                c.span,
                format!(
                    "#[{macro_name}] cannot instrument a `const fn`: recording happens at run time"
                ),
            ));
        }
        Ok(Func { item })
    }

    pub fn is_async(&self) -> bool {
        self.item.sig.asyncness.is_some()
    }

    /// An `#[async_trait]` method that was already expanded: `fn` returning a boxed future whose
    /// body is `Box::pin(async move { .. })`. Returns that inner block.
    fn async_trait_block(&mut self) -> Option<&mut Block> {
        if self.is_async() {
            return None;
        }
        let Some(Stmt::Expr(Expr::Call(call), None)) = self.item.block.stmts.last_mut() else {
            return None;
        };
        let Expr::Path(path) = &*call.func else {
            return None;
        };
        let segments: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if !segments.ends_with(&["Box".to_string(), "pin".to_string()]) || call.args.len() != 1 {
            return None;
        }
        match call.args.first_mut() {
            Some(Expr::Async(block)) if block.capture.is_some() => Some(&mut block.block),
            _ => None,
        }
    }

    /// Whether the body runs as a future (an `async fn`, or an `#[async_trait]` method).
    pub fn runs_async(&mut self) -> bool {
        self.is_async() || self.async_trait_block().is_some()
    }

    /// The type the body evaluates to, when it can be named.
    pub fn output_type(&self) -> Option<Type> {
        let ReturnType::Type(_, ty) = &self.item.sig.output else {
            return Some(syn::parse_quote!(()));
        };
        if !self.is_async() {
            if let Some(out) = future_output(ty) {
                return (!contains_impl(&out)).then_some(out);
            }
        }
        (!contains_impl(ty)).then(|| (**ty).clone())
    }

    /// The span of the return type, for errors about it.
    pub fn output_span(&self) -> Span {
        match &self.item.sig.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => self.item.sig.ident.span(),
        }
    }

    /// A parameter by name (`server_name`), as an identifier expression.
    pub fn param(&self, name: &str) -> Option<syn::Ident> {
        self.item.sig.inputs.iter().find_map(|arg| match arg {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) if p.ident == name => Some(p.ident.clone()),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
    }

    pub fn is_track_caller(&self) -> bool {
        self.item
            .attrs
            .iter()
            .any(|a| a.path().is_ident("track_caller"))
    }

    /// Replaces the body with `wrap(run)`, where `run` is an expression that runs the
    /// original body and evaluates to what it returns.
    pub fn rewrite_body(
        mut self,
        runtime: &syn::Path,
        wrap: impl FnOnce(TokenStream) -> TokenStream,
    ) -> ItemFn {
        let track_caller = self.is_track_caller();
        let output = self.output_type();
        if let Some(inner) = self.async_trait_block() {
            let body = std::mem::replace(inner, syn::parse_quote!({}));
            let wrapped = wrap(quote!(async move #body.await));
            *inner = syn::parse2(quote!({ #wrapped })).expect("a block");
            return self.item;
        }
        let body = std::mem::replace(&mut *self.item.block, syn::parse_quote!({}));
        let run = if self.is_async() {
            quote!(async move #body.await)
        } else if track_caller {
            labeled_block(body, runtime)
        } else {
            let ret = output.map(|t| quote!(-> #t));
            quote!(#runtime::__private::once(move || #ret #body))
        };
        let wrapped = wrap(run);
        *self.item.block = syn::parse2(quote!({ #wrapped })).expect("a block");
        self.item
    }
}

/// The span of an item's leading keyword, for "not a function" errors.
fn item_keyword_span(item: &Item) -> Span {
    let tokens = item.to_token_stream();
    // Skip attributes and visibility: point at the first identifier after them.
    let mut span = tokens.span();
    for tt in tokens {
        if let proc_macro2::TokenTree::Ident(i) = &tt {
            let s = i.to_string();
            if !matches!(s.as_str(), "pub" | "crate" | "in" | "self" | "super") {
                span = i.span();
                break;
            }
        }
    }
    span
}

/// `Output = T` inside a boxed future type (`Pin<Box<dyn Future<Output = T> + Send>>`).
fn future_output(ty: &Type) -> Option<Type> {
    struct Find(Option<Type>);
    impl<'a> syn::visit::Visit<'a> for Find {
        fn visit_assoc_type(&mut self, a: &'a syn::AssocType) {
            if a.ident == "Output" && self.0.is_none() {
                self.0 = Some(a.ty.clone());
            }
        }
    }
    let mut find = Find(None);
    syn::visit::visit_type(&mut find, ty);
    find.0
}

fn contains_impl(ty: &Type) -> bool {
    struct Find(bool);
    impl<'a> syn::visit::Visit<'a> for Find {
        fn visit_type_impl_trait(&mut self, _: &'a syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut find = Find(false);
    syn::visit::visit_type(&mut find, ty);
    find.0
}

/// For `#[track_caller]` functions the body stays in the function (a closure would lose the
/// caller's location): a labelled block whose `return`s and `?`s are rewritten to leave the
/// block with their value.
fn labeled_block(mut body: Block, runtime: &syn::Path) -> TokenStream {
    let label: syn::Lifetime = syn::parse_quote!('__mr_body);
    let mut rewrite = EarlyExits {
        label: label.clone(),
        runtime: runtime.clone(),
    };
    rewrite.visit_block_mut(&mut body);
    quote!(#label: #body)
}

struct EarlyExits {
    label: syn::Lifetime,
    runtime: syn::Path,
}

impl VisitMut for EarlyExits {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        let (label, rt) = (self.label.clone(), self.runtime.clone());
        match expr {
            // Their own `return`s and `?`s belong to them.
            Expr::Closure(_) | Expr::Async(_) => return,
            Expr::Return(r) => {
                if let Some(value) = r.expr.as_mut() {
                    self.visit_expr_mut(value);
                }
                let value = r
                    .expr
                    .as_ref()
                    .map(|v| v.to_token_stream())
                    .unwrap_or(quote!(()));
                let span = r.return_token.span;
                *expr = syn::parse2(quote_spanned!(span=> break #label #value)).expect("break");
                return;
            }
            Expr::Try(t) => {
                self.visit_expr_mut(&mut t.expr);
                let inner = &t.expr;
                let span = t.question_token.span;
                *expr = syn::parse2(quote_spanned!(span=>
                    match #rt::__private::Branch::branch(#inner) {
                        #rt::__private::ControlFlow::Continue(v) => v,
                        #rt::__private::ControlFlow::Break(r) => {
                            use #rt::__private::FromResidual as __MrFromResidual;
                            break #label __MrFromResidual::from_residual(r)
                        }
                    }
                ))
                .expect("match");
                return;
            }
            Expr::Macro(m) => {
                rewrite_macro_args(&mut m.mac, self);
                return;
            }
            _ => {}
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        if let Stmt::Macro(m) = stmt {
            rewrite_macro_args(&mut m.mac, self);
            return;
        }
        syn::visit_mut::visit_stmt_mut(self, stmt);
    }

    // Nested items have their own bodies.
    fn visit_item_mut(&mut self, _: &mut Item) {}
}

/// Macros whose arguments are expressions (`vec![a?]`, `format!("{}", b?)`) get the same
/// rewrite; others are left alone: a `return` or `?` inside such a macro in a
/// `#[track_caller]` function leaves without the guard seeing the value, and the guard's `Drop`
/// records the call as `cancelled`.
fn rewrite_macro_args(mac: &mut syn::Macro, visitor: &mut EarlyExits) {
    use syn::punctuated::Punctuated;
    let Ok(mut args) = mac.parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated)
    else {
        return;
    };
    for arg in args.iter_mut() {
        visitor.visit_expr_mut(arg);
    }
    mac.tokens = args.to_token_stream();
}

/// The argument that marks a sibling attribute as already handled.
pub const CONSUMED: &str = "__consumed";

/// Takes this crate's sibling attributes (named in `names`) from the item, so that one
/// expansion handles all of them in a fixed order. Each is left in place as
/// `#[name(__consumed)]`: it still expands (so its import is used) but changes nothing.
pub fn take_siblings(attrs: &mut [Attribute], names: &[&str]) -> Vec<(String, Attribute)> {
    let mut taken = Vec::new();
    for a in attrs.iter_mut() {
        let path = a.path().clone();
        let last = path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let ours = path.segments.len() == 1
            || path
                .segments
                .first()
                .is_some_and(|s| s.ident == "mcp_gateway_metrics");
        if ours && names.contains(&last.as_str()) && !is_consumed(a) {
            taken.push((last, a.clone()));
            let marker = syn::Ident::new(CONSUMED, a.span());
            *a = syn::parse_quote_spanned!(a.span()=> #[#path(#marker)]);
        }
    }
    taken
}

fn is_consumed(attr: &Attribute) -> bool {
    attr.parse_args::<syn::Ident>().is_ok_and(|i| i == CONSUMED)
}

/// Whether an attribute's own arguments are the consumed marker.
pub fn args_consumed(args: &TokenStream) -> bool {
    syn::parse2::<syn::Ident>(args.clone()).is_ok_and(|i| i == CONSUMED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_caller_bodies_rewrite_return_and_question_mark() {
        let body: Block = syn::parse_quote!({
            if fail {
                return Err(Error::NotFound);
            }
            let v = vec![Ok::<u32, Error>(3)?];
            Ok(v[0])
        });
        let out = labeled_block(body, &syn::parse_quote!(::mcp_gateway_metrics));
        let text = out.to_string();
        assert!(text.contains("break '__mr_body Err"), "{text}");
        assert!(!text.contains("return"), "{text}");
        assert!(!text.contains('?'), "{text}");
    }
}
