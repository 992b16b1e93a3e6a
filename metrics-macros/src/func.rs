//! The instrumented function: what shape it has, and how its body is run so that the value it
//! returns (through `return`, `?` or its tail) is seen before it leaves.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Attribute, Block, Expr, FnArg, Item, ItemFn, Pat, ReturnType, Stmt, TraitItemFn, Type};

/// How the function's body runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A plain `fn`: the body runs inline.
    Sync,
    /// An `async fn`.
    Async,
    /// An `#[async_trait]` method that was already expanded: a `fn` returning
    /// `Pin<Box<dyn Future<Output = T> + ..>>` whose body ends in `Box::pin(async move { .. })`.
    AsyncTrait,
}

/// The function an attribute is on.
pub struct Func {
    pub item: ItemFn,
    pub shape: Shape,
}

impl Func {
    /// Parses the item, refusing what is not an instrumentable function.
    pub fn parse(tokens: TokenStream, macro_name: &str) -> syn::Result<Func> {
        let mut item = match syn::parse2::<Item>(tokens.clone()) {
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
        let shape = if item.sig.asyncness.is_some() {
            Shape::Async
        } else if boxed_future_output(&item.sig.output).is_some()
            && async_trait_block(&mut item.block).is_some()
        {
            Shape::AsyncTrait
        } else {
            Shape::Sync
        };
        Ok(Func { item, shape })
    }

    /// Whether the body runs as a future (an `async fn`, or an `#[async_trait]` method).
    pub fn runs_async(&self) -> bool {
        self.shape != Shape::Sync
    }

    /// The type the body evaluates to, as a type that can annotate a `let` (any `impl Trait`
    /// in it becomes `_`, for the compiler to infer), or `None` for a function that never
    /// returns (`-> !`).
    pub fn output_type(&self) -> Option<Type> {
        let declared = match (&self.item.sig.output, self.shape) {
            (ReturnType::Default, _) => syn::parse_quote!(()),
            (output, Shape::AsyncTrait) => boxed_future_output(output).expect("checked by parse"),
            (ReturnType::Type(_, ty), _) => (**ty).clone(),
        };
        if matches!(declared, Type::Never(_)) {
            return None;
        }
        Some(erase_impl_trait(declared))
    }

    /// The span of the return type, for errors about it.
    pub fn output_span(&self) -> Span {
        match &self.item.sig.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => self.item.sig.ident.span(),
        }
    }

    /// A parameter by name (`server_name`), as an identifier expression. A parameter named
    /// with a leading underscore (`_server_name`, used only by the label) counts too.
    pub fn param(&self, name: &str) -> Option<syn::Ident> {
        self.item.sig.inputs.iter().find_map(|arg| match arg {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) if p.ident == name || p.ident == format!("_{name}") => {
                    Some(p.ident.clone())
                }
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
    }

    /// The error type of a declared `Result<T, E>`, as written (`E`, `io::Error`), when the
    /// signature spells it.
    fn written_error_type(&self) -> Option<syn::TypePath> {
        let Type::Path(result) = self.output_type()? else {
            return None;
        };
        let last = result.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        if last.ident != "Result" || args.args.len() != 2 {
            return None;
        }
        match args.args.last() {
            Some(syn::GenericArgument::Type(Type::Path(error))) => Some(error.clone()),
            _ => None,
        }
    }

    /// The label of an error type without an `ErrorType` impl, from its name as the signature
    /// writes it (`UpstreamError` → `upstream_error`): the same with every compiler, unlike
    /// `std::any::type_name`.
    pub fn written_error_label(&self) -> Option<String> {
        let error = self.written_error_type()?;
        let name = error.path.segments.last()?.ident.to_string();
        Some(crate::snake::snake_case(name.trim_start_matches("r#")))
    }

    /// The error type of a declared `Result<T, E>` when `E` is one of the function's own type
    /// parameters without an `ErrorType` bound: classification is chosen at compile time,
    /// so such an `E` could only ever be labelled by its type's name, whatever it is
    /// instantiated with.
    pub fn unbounded_generic_error(&self) -> Option<syn::Ident> {
        let error = self.written_error_type()?.path.get_ident()?.clone();
        let generics = &self.item.sig.generics;
        let param = generics.type_params().find(|p| p.ident == error)?;
        let names_error_type = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, _>| {
            bounds.iter().any(|b| match b {
                syn::TypeParamBound::Trait(t) => t
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "ErrorType"),
                _ => false,
            })
        };
        let bounded_inline = names_error_type(&param.bounds);
        let bounded_in_where = generics.where_clause.iter().any(|w| {
            w.predicates.iter().any(|pred| match pred {
                syn::WherePredicate::Type(t) => {
                    matches!(&t.bounded_ty, Type::Path(p) if p.path.is_ident(&error))
                        && names_error_type(&t.bounds)
                }
                _ => false,
            })
        });
        (!bounded_inline && !bounded_in_where).then(|| param.ident.clone())
    }

    pub fn is_track_caller(&self) -> bool {
        self.item
            .attrs
            .iter()
            .any(|a| a.path().is_ident("track_caller"))
    }

    /// Replaces the body with `wrap(run)`, where `run` is an expression that runs the
    /// original body and evaluates to what it returns, typed as the function declares: the
    /// declared type flows into the body (so its returns coerce, and a type error in it is
    /// reported on the user's line, not on the attribute).
    ///
    /// A function that never returns (`-> !`) gets `wrap` of its body as it is: nothing
    /// after it runs, and the guards see how it ends when they are dropped.
    pub fn rewrite_body(
        mut self,
        runtime: &syn::Path,
        wrap: impl FnOnce(TokenStream) -> TokenStream,
    ) -> ItemFn {
        let output = self.output_type();
        let fake_return = output
            .as_ref()
            .map(|ty| fake_return_edge(ty, self.output_span()));
        if self.shape == Shape::AsyncTrait {
            let inner = async_trait_block(&mut self.item.block).expect("checked by parse");
            let body = std::mem::replace(inner, syn::parse_quote!({}));
            let wrapped = wrap(generated!(async move { #fake_return #body }.await));
            *inner = syn::parse2(generated!({ #wrapped })).expect("a block");
            return self.item;
        }
        let body = std::mem::replace(&mut *self.item.block, syn::parse_quote!({}));
        let run = match (&output, self.shape) {
            (None, Shape::Async) => generated!(async move #body.await),
            (None, _) => generated!(#body),
            (Some(_), Shape::Async) => generated!(async move { #fake_return #body }.await),
            (Some(_), _) if self.is_track_caller() => labeled_block(body, runtime),
            (Some(ty), _) => generated!(#runtime::__private::once(move || -> #ty #body)),
        };
        let wrapped = wrap(run);
        *self.item.block = syn::parse2(generated!({ #wrapped })).expect("a block");
        self.item
    }
}

/// tracing-attributes' "fake return edge": an unreachable `return` of the declared type as
/// the first statement of an async block fixes the block's output type before the body is
/// checked, so the body's `return`s coerce to it (`Box::new(MyErr)` into `Box<dyn Error>`)
/// and a mismatch is reported on the body's own expression.
fn fake_return_edge(ty: &Type, span: Span) -> TokenStream {
    quote_spanned! {span=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __mr_fake_return: #ty = loop {};
            return __mr_fake_return;
        }
    }
}

/// `T` of a return type `Pin<Box<dyn Future<Output = T> + ..>>`.
fn boxed_future_output(output: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::Path(pin) = &**ty else {
        return None;
    };
    let last = pin.path.segments.last()?;
    if last.ident != "Pin" {
        return None;
    }
    future_output(ty)
}

/// The block inside a final `Box::pin(async move { .. })`, as `#[async_trait]` writes it.
fn async_trait_block(block: &mut Block) -> Option<&mut Block> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last_mut() else {
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

/// `impl Trait` → `_`: a `let` annotation cannot name an opaque type, and inference finds
/// the concrete one.
fn erase_impl_trait(mut ty: Type) -> Type {
    struct Erase;
    impl VisitMut for Erase {
        fn visit_type_mut(&mut self, t: &mut Type) {
            if let Type::ImplTrait(i) = t {
                *t = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](i.span()),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, t);
            }
        }
    }
    Erase.visit_type_mut(&mut ty);
    ty
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

/// For `#[track_caller]` functions the body stays in the function (a closure would lose the
/// caller's location): a labelled block whose `return`s and `?`s are rewritten to leave the
/// block with their value.
fn labeled_block(mut body: Block, runtime: &syn::Path) -> TokenStream {
    let label = syn::Lifetime::new("'__mr_body", Span::mixed_site());
    let mut rewrite = EarlyExits {
        label: label.clone(),
        runtime: runtime.clone(),
    };
    rewrite.visit_block_mut(&mut body);
    generated!(#label: #body)
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
    let runtime = crate::syntax::runtime_path();
    let runtime_name = runtime.segments.last().map(|s| s.ident.clone());
    for a in attrs.iter_mut() {
        let path = a.path().clone();
        let last = path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let ours = path.segments.len() == 1
            || path.segments.first().is_some_and(|s| {
                s.ident == "mcp_gateway_metrics" || Some(&s.ident) == runtime_name.as_ref()
            });
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
