//! Generates the instrumented function. All attributes of this crate on one function are
//! expanded together, in a fixed nesting, whatever their order:
//!
//! ```text
//! tool call / guardrail check / auth guards start        (outermost)
//!   timeout operation starts
//!     the original body runs (enforced deadline on async fns)
//!   timeout operation ends
//! value classified once; each guard records it           (then the value is returned)
//! ```

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Path};

use crate::attr::{plan, Label, Plan, MACROS};
use crate::func::{take_siblings, Func};

/// The attribute `macro_name(args)` on `item`, together with its siblings on the same item.
pub fn expand(macro_name: &str, args: TokenStream, item: TokenStream) -> TokenStream {
    if crate::func::args_consumed(&args) {
        // A sibling attribute on this function already expanded this one.
        return item;
    }
    let mut func = match Func::parse(item.clone(), macro_name) {
        Ok(f) => f,
        Err(e) => {
            let err = e.to_compile_error();
            return generated!(#item #err);
        }
    };
    let siblings = take_siblings(&mut func.item.attrs, MACROS);
    // What compile-out and errors return: the user's function, siblings marked as handled.
    let unchanged = func.item.clone();
    match plan(macro_name, args, siblings, &mut func) {
        Ok(plan) if cfg!(not(feature = "instrument")) => compiled_out(plan, func),
        Ok(plan) => generate(plan, func),
        Err(e) => {
            let err = e.to_compile_error();
            generated!(#unchanged #err)
        }
    }
}

/// How a label is passed to the runtime.
impl Label {
    fn tokens(&self, rt: &Path) -> TokenStream {
        match self {
            Label::Literal(s) => generated!(#s),
            Label::Expr(e) => quote_spanned!(e.span()=> #rt::__private::label(&(#e))),
            Label::Param(i) => quote_spanned!(i.span()=> #rt::__private::label(&#i)),
            Label::Context => generated!(""),
        }
    }

    /// `Some(&str)`, or `None` for the request context.
    fn optional(&self, rt: &Path) -> TokenStream {
        match self {
            Label::Context => generated!(#rt::__private::None),
            other => {
                let t = other.tokens(rt);
                generated!(#rt::__private::Some(#t))
            }
        }
    }
}

/// Without instrumentation: the function as written, plus a no-op use of the parameters its
/// labels came from (so that compiling out cannot turn them into unused-variable warnings),
/// and the deadline of an enforced `#[timeout_op]`: compiling the metrics out must not change
/// what the program does.
fn compiled_out(plan: Plan, mut func: Func) -> TokenStream {
    let labels = [
        plan.tool_call
            .as_ref()
            .map(|t| [&t.server, &t.tool, &t.project]),
        plan.guardrail
            .as_ref()
            .map(|g| [&g.server, &g.tool, &g.tool]),
        plan.auth
            .as_ref()
            .map(|a| [&a.project, &a.project, &a.project]),
    ];
    let mut params: Vec<&Ident> = Vec::new();
    for label in labels.iter().flatten().flatten() {
        if let Label::Param(ident) = label {
            if !params.contains(&ident) {
                params.push(ident);
            }
        }
    }
    if !params.is_empty() {
        func.item
            .block
            .stmts
            .insert(0, syn::parse_quote!(let _ = (#(&#params,)*);));
    }
    let enforced = plan
        .timeout
        .as_ref()
        .filter(|t| t.enforce && func.runs_async());
    let Some(t) = enforced else {
        let item = func.item;
        return generated!(#item);
    };
    let rt = plan.runtime.clone().expect("set by plan");
    let p = generated!(#rt::__private);
    let op = &t.operation;
    let limit = match t.timeout {
        Some(n) => generated!(#p::Some(#p::nanos(#n))),
        None => generated!(#p::None),
    };
    let timed_out = timed_out(&func, &p);
    let item = func_rewrite(&mut func, &rt, |run| {
        let future = strip_await(run);
        generated! {
            match #p::enforce_unrecorded(#p::OperationType::#op, #limit, #future).await {
                #p::Ok(__mr_value) => __mr_value,
                #p::Err(__mr_timeout) => #timed_out,
            }
        }
    });
    generated!(#item)
}

fn generate(plan: Plan, mut func: Func) -> TokenStream {
    let rt = plan.runtime.clone().expect("set by plan");
    let p = generated!(#rt::__private);
    let runs_async = func.runs_async();
    let output = func.output_type();
    let mut prologue = TokenStream::new();
    let mut epilogue = TokenStream::new();

    if let Some(tc) = &plan.tool_call {
        let (server, tool, project) = (
            tc.server.tokens(&rt),
            tc.tool.tokens(&rt),
            tc.project.optional(&rt),
        );
        let mutability = plan
            .timeout
            .as_ref()
            .filter(|t| t.enforce)
            .map(|_| generated!(mut));
        prologue.extend(generated! {
            static __MR_TOOL_CALL_SITE: #p::ToolCallSite = #p::ToolCallSite::new();
            let #mutability __mr_call = #p::ToolCallGuard::start(
                &__MR_TOOL_CALL_SITE, #server, #tool, #project,
            );
        });
        epilogue.extend(generated!(__mr_call.finish(__mr_classified);));
    }
    if let Some(g) = &plan.guardrail {
        let (endpoint, direction) = (&g.endpoint, &g.direction);
        let (server, tool) = (g.server.tokens(&rt), g.tool.tokens(&rt));
        prologue.extend(generated! {
            static __MR_GUARDRAIL_SITE: #p::GuardrailSite = #p::GuardrailSite::new();
            let __mr_guardrail = #p::GuardrailCall::start(
                &__MR_GUARDRAIL_SITE, #endpoint, #p::Direction::#direction, #server, #tool,
            );
        });
        epilogue.extend(
            generated!(#p::guardrail_finish(&__mr_result, __mr_guardrail, __mr_classified);),
        );
    }
    if let Some(a) = &plan.auth {
        let provider = &a.provider;
        let project = match &a.project {
            Label::Context => generated!(#p::None),
            other => {
                let t = other.tokens(&rt);
                generated!(#p::Some(#p::ToString::to_string(#t)))
            }
        };
        prologue.extend(generated! {
            let __mr_auth_project: #p::Option<#p::String> = #project;
        });
        epilogue.extend(generated! {
            #p::auth_finish(#provider, __mr_auth_project.as_deref(), &__mr_result, __mr_classified);
        });
    }
    if let Some(c) = &plan.cache {
        let cache_type = &c.cache_type;
        epilogue
            .extend(generated!(#p::cache_lookup_finish(#p::CacheType::#cache_type, &__mr_result);));
    }
    let needs_classification =
        plan.tool_call.is_some() || plan.guardrail.is_some() || plan.auth.is_some();
    let written_error = match func.written_error_label() {
        Some(label) => generated!(#p::Some(#label)),
        None => generated!(#p::None),
    };
    let classify = needs_classification.then(|| {
        generated! {
            let __mr_classified = {
                use #p::{ViaAnything as _, ViaErrorType as _, ViaTypeName as _};
                (&&&#p::Classify(&__mr_result, #written_error)).classify()
            };
        }
    });
    let annotation = output.as_ref().map(|t| generated!(: #t));
    let timed_out = timed_out(&func, &p);
    let timeout = plan.timeout;
    let has_call = plan.tool_call.is_some();
    // Spans (runtime feature `tracing`): the call's guard holds the outer span, the timeout
    // operation's the inner one; the body runs in the innermost.
    let outer = if has_call {
        Some(generated!(__mr_call))
    } else if plan.guardrail.is_some() {
        Some(generated!(__mr_guardrail))
    } else {
        None
    };
    let inner = if timeout.is_some() {
        Some(generated!(__mr_op))
    } else {
        outer.clone()
    };
    let item = func_rewrite(&mut func, &rt, |run| {
        // The call is current while its body runs, so that a guardrail check inside that
        // counts a block tells it.
        let run = if has_call {
            in_call(run, runs_async, &p)
        } else {
            run
        };
        let run = match &inner {
            Some(guard) => in_span(run, guard, runs_async, &p),
            None => run,
        };
        let run = match &timeout {
            None => run,
            Some(t) => {
                let op = &t.operation;
                let limit = match t.timeout {
                    Some(n) => generated!(#p::Some(#p::nanos(#n))),
                    None => generated!(#p::None),
                };
                let begin = generated!(#p::TimeoutOp::start(#p::OperationType::#op, #limit));
                let start = match &outer {
                    // Created inside the call's span, so its span nests in the call's.
                    Some(guard) => generated! {
                        let __mr_op = {
                            let __mr_in = #p::enter(#guard.span());
                            #begin
                        };
                    },
                    None => generated!(let __mr_op = #begin;),
                };
                if t.enforce && runs_async {
                    let body = strip_await(run);
                    let mark = has_call.then(|| generated!(__mr_call.timed_out();));
                    generated! {{
                        #start
                        match #p::enforce(&__mr_op, #body).await {
                            #p::Some(__mr_value) => {
                                __mr_op.finish(#p::TimeoutOutcome::Completed);
                                __mr_value
                            }
                            #p::None => {
                                let __mr_timeout = #p::timeout_error(&__mr_op);
                                __mr_op.finish(#p::TimeoutOutcome::TimedOut);
                                #mark
                                #timed_out
                            }
                        }
                    }}
                } else if output.is_none() {
                    // Never returns: the operation's guard sees how it ends when dropped.
                    generated! {{
                        #start
                        #run
                    }}
                } else {
                    generated! {{
                        #start
                        let __mr_value #annotation = #run;
                        __mr_op.finish(#p::TimeoutOutcome::Completed);
                        __mr_value
                    }}
                }
            }
        };
        if output.is_none() && runs_async {
            // `async fn .. -> !`: the awaited body never completes; the statement after it
            // gives the function its type and is never reached.
            return generated! {
                #prologue
                let _ = #run;
                #[allow(unreachable_code)]
                #p::never_returned();
            };
        }
        if output.is_none() {
            // `-> !`: nothing after the body runs; the guards record how it ended (a panic)
            // when they are dropped.
            return generated! {
                #prologue
                #run
            };
        }
        generated! {
            #prologue
            let __mr_result #annotation = #run;
            // A body that always diverges (`panic!()`, `loop {}`) makes what follows
            // unreachable; that is the user's intent, not a warning to give them.
            #[allow(unreachable_code)]
            let __mr_result = {
                #classify
                #epilogue
                __mr_result
            };
            __mr_result
        }
    });
    generated!(#item)
}

/// The value an enforced `#[timeout_op]` returns at its deadline: `Err(Timeout.into())`,
/// through a trait whose bound names the problem (on the return type) when the function does
/// not return a `Result` whose error converts from `Timeout`.
fn timed_out(func: &Func, p: &TokenStream) -> TokenStream {
    let timeout = Ident::new("__mr_timeout", Span::mixed_site());
    quote_spanned!(func.output_span()=> <_ as #p::TimeoutResult>::from_timeout(#timeout))
}

fn func_rewrite(
    func: &mut Func,
    rt: &Path,
    wrap: impl FnOnce(TokenStream) -> TokenStream,
) -> syn::ItemFn {
    let placeholder = Func {
        item: func.item.clone(),
        shape: func.shape,
    };
    std::mem::replace(func, placeholder).rewrite_body(rt, wrap)
}

/// `run` with the tool call of `__mr_call` current.
fn in_call(run: TokenStream, runs_async: bool, p: &TokenStream) -> TokenStream {
    if runs_async {
        let future = strip_await(run);
        generated!(#p::in_call(__mr_call.state(), #future).await)
    } else {
        generated!({
            let __mr_in_call = #p::CallScope::enter(__mr_call.state());
            #run
        })
    }
}

/// `run` inside the span of `guard`: an async body instrumented (the span follows it across
/// `.await`), a sync body with the span entered.
fn in_span(
    run: TokenStream,
    guard: &TokenStream,
    runs_async: bool,
    p: &TokenStream,
) -> TokenStream {
    if runs_async {
        let future = strip_await(run);
        generated!(#p::instrument(#guard.span(), #future).await)
    } else {
        generated!({
            let __mr_in = #p::enter(#guard.span());
            #run
        })
    }
}

/// `async move { .. }.await` → `async move { .. }` (the enforcer awaits it).
fn strip_await(run: TokenStream) -> TokenStream {
    let expr: Expr = syn::parse2(run).expect("an expression");
    match expr {
        Expr::Await(a) => {
            let base = a.base;
            generated!(#base)
        }
        other => generated!(#other),
    }
}
