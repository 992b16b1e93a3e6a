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
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr, Path};

use crate::attr::{self, Args, Key, RawArgs, Spec};
use crate::cardinality;
use crate::func::{take_siblings, Func};

pub const MACROS: &[&str] = &[
    "tool_call",
    "guardrail_check",
    "timeout_op",
    "cache_lookup",
    "auth_check",
];

const LABEL_KEYS: [Key; 3] = [
    Key::alias("server", &["server_name"]),
    Key::alias("tool", &["tool_name"]),
    Key::alias("project", &["project_id"]),
];

fn spec(macro_name: &str) -> Spec {
    const TOOL: &[Key] = &[
        LABEL_KEYS[0],
        LABEL_KEYS[1],
        LABEL_KEYS[2],
        Key::flag("allow_unbounded_labels"),
        Key::value("crate"),
    ];
    const GUARD: &[Key] = &[
        Key::value("direction"),
        Key::value("endpoint"),
        LABEL_KEYS[0],
        LABEL_KEYS[1],
        Key::flag("allow_unbounded_labels"),
        Key::value("crate"),
    ];
    const TIMEOUT: &[Key] = &[
        Key::alias("operation", &["operation_type"]),
        Key::value("timeout"),
        Key::value("enforce"),
        Key::value("crate"),
    ];
    const CACHE: &[Key] = &[Key::value("cache_type"), Key::value("crate")];
    const AUTH: &[Key] = &[
        Key::value("provider"),
        LABEL_KEYS[2],
        Key::flag("allow_unbounded_labels"),
        Key::value("crate"),
    ];
    let (macro_name, keys) = match macro_name {
        "tool_call" => ("tool_call", TOOL),
        "guardrail_check" => ("guardrail_check", GUARD),
        "timeout_op" => ("timeout_op", TIMEOUT),
        "cache_lookup" => ("cache_lookup", CACHE),
        _ => ("auth_check", AUTH),
    };
    Spec { macro_name, keys }
}

/// Where a label's value comes from.
enum Label {
    Literal(LitStr),
    Expr(Box<Expr>),
    Param(Ident),
    /// The request context (project_id only).
    Context,
}

impl Label {
    fn resolve(
        args: &Args,
        func: &Func,
        key: &str,
        param: &str,
        macro_name: &str,
        required: bool,
    ) -> syn::Result<Label> {
        if let Some(expr) = args.expr(key) {
            if !args.flag("allow_unbounded_labels") {
                cardinality::check(expr, key)?;
            }
            return Ok(match expr {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Label::Literal(s.clone()),
                other => Label::Expr(Box::new(other.clone())),
            });
        }
        if let Some(ident) = func.param(param) {
            return Ok(Label::Param(ident));
        }
        if required {
            Err(syn::Error::new(
                args.span,
                format!(
                    "#[{macro_name}] has no value for the `{param}` label: add `{key} = \"...\"` \
                     (a literal) or `{key} = expr` (evaluated before the body), or give the \
                     function a parameter named `{param}`"
                ),
            ))
        } else {
            Ok(Label::Context)
        }
    }

    /// An expression of type `&str`, borrowed only for the statement it is used in.
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

struct ToolCall {
    server: Label,
    tool: Label,
    project: Label,
}

struct Guardrail {
    direction: Ident,
    endpoint: LitStr,
    server: Label,
    tool: Label,
}

struct Timeout {
    operation: Ident,
    timeout: Option<u64>,
    enforce: bool,
}

struct Cache {
    cache_type: Ident,
}

struct Auth {
    provider: LitStr,
    project: Label,
}

/// Everything requested for one function.
#[derive(Default)]
struct Plan {
    tool_call: Option<ToolCall>,
    guardrail: Option<Guardrail>,
    timeout: Option<Timeout>,
    cache: Option<Cache>,
    auth: Option<Auth>,
    runtime: Option<Path>,
}

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

fn plan(
    macro_name: &str,
    args: TokenStream,
    siblings: Vec<(String, syn::Attribute)>,
    func: &mut Func,
) -> syn::Result<Plan> {
    let mut plan = Plan::default();
    let mut all = vec![(
        macro_name.to_owned(),
        syn::parse2::<RawArgs>(args)?,
        Span::call_site(),
    )];
    for (name, attr) in siblings {
        let raw = match &attr.meta {
            syn::Meta::Path(_) => RawArgs(Vec::new()),
            _ => attr.parse_args::<RawArgs>()?,
        };
        if all.iter().any(|(n, _, _)| *n == name) {
            return Err(syn::Error::new(
                attr.path().span(),
                format!("#[{name}] is given twice on this function; keep one"),
            ));
        }
        all.push((name, raw, attr.path().span()));
    }
    for (name, raw, span) in all {
        let args = Args::check(raw, &spec(&name), span)?;
        let runtime = args.krate()?;
        if let (Some(existing), Some(span)) = (&plan.runtime, args.key_span("crate")) {
            if quote!(#existing).to_string() != quote!(#runtime).to_string() {
                return Err(syn::Error::new(
                    span,
                    "`crate` differs between the attributes of this function",
                ));
            }
        }
        if plan.runtime.is_none() || args.key_span("crate").is_some() {
            plan.runtime = Some(runtime);
        }
        match name.as_str() {
            "tool_call" => plan.tool_call = Some(tool_call(&args, func)?),
            "guardrail_check" => plan.guardrail = Some(guardrail(&args, func)?),
            "timeout_op" => plan.timeout = Some(timeout(&args, func)?),
            "cache_lookup" => plan.cache = Some(cache(&args)?),
            _ => plan.auth = Some(auth(&args, func)?),
        }
    }
    let classifies = plan.tool_call.is_some() || plan.guardrail.is_some() || plan.auth.is_some();
    if let Some(error) = func.unbounded_generic_error().filter(|_| classifies) {
        return Err(syn::Error::new(
            error.span(),
            format!(
                "the error type `{error}` is generic: its `error_type` label is chosen at compile \
                 time, so without a bound every `{error}` would be labelled by its type's name, \
                 whatever its variants say; add the bound `{error}: mcp_gateway_metrics::ErrorType` \
                 (derive it with `#[derive(ErrorType)]`)"
            ),
        ));
    }
    Ok(plan)
}

fn tool_call(args: &Args, func: &Func) -> syn::Result<ToolCall> {
    Ok(ToolCall {
        server: Label::resolve(args, func, "server", "server_name", "tool_call", true)?,
        tool: Label::resolve(args, func, "tool", "tool_name", "tool_call", true)?,
        project: Label::resolve(args, func, "project", "project_id", "tool_call", false)?,
    })
}

fn guardrail(args: &Args, func: &Func) -> syn::Result<Guardrail> {
    let (direction, span) = args
        .word("direction", &["input", "output"])?
        .ok_or_else(|| {
            syn::Error::new(
                args.span,
                "#[guardrail_check] needs `direction = input` or `direction = output`",
            )
        })?;
    let endpoint = args
        .str("endpoint", "\"/guardrails/policy/detect\"")?
        .ok_or_else(|| {
            syn::Error::new(
                args.span,
                "#[guardrail_check] needs `endpoint = \"...\"`, the guardrail API path it calls \
             (e.g. \"/guardrails/policy/detect\")",
            )
        })?;
    Ok(Guardrail {
        direction: Ident::new(
            if direction == "input" {
                "Input"
            } else {
                "Output"
            },
            span,
        ),
        endpoint,
        server: Label::resolve(args, func, "server", "server_name", "guardrail_check", true)?,
        tool: Label::resolve(args, func, "tool", "tool_name", "guardrail_check", true)?,
    })
}

const OPERATIONS: &[(&str, &str)] = &[
    ("default", "Default"),
    ("guardrail", "Guardrail"),
    ("auth", "Auth"),
    ("tool_execution", "ToolExecution"),
    ("discovery", "Discovery"),
    ("cache", "Cache"),
    ("connectivity", "Connectivity"),
];

fn timeout(args: &Args, func: &mut Func) -> syn::Result<Timeout> {
    let names: Vec<&str> = OPERATIONS.iter().map(|(n, _)| *n).collect();
    // A bare word or a string, like every other fixed-set value (`direction = input`).
    let operation = match args.word("operation", &names)? {
        None => Ident::new("Default", Span::call_site()),
        Some((value, span)) => {
            let variant = OPERATIONS
                .iter()
                .find(|(n, _)| *n == value)
                .expect("word() admits only the listed names");
            Ident::new(variant.1, span)
        }
    };
    let timeout = match args.str("timeout", "\"15s\"")? {
        None => None,
        Some(lit) => Some(
            u64::try_from(attr::duration(&lit)?.as_nanos())
                .map_err(|_| syn::Error::new(lit.span(), "this timeout is too long"))?,
        ),
    };
    let runs_async = func.runs_async();
    // Whether the return type is a `Result` is checked by a trait bound where the deadline's
    // error is built (`__private::TimeoutResult`), so aliases and any `Result` path work.
    let enforce = match args.bool("enforce")? {
        Some(b) if b.value && !runs_async => {
            return Err(syn::Error::new(
                b.span(),
                "a synchronous function cannot be cut off at its deadline: #[timeout_op] only \
                 observes it; remove `enforce = true`, or make the function `async`",
            ))
        }
        Some(b) => b.value,
        None => runs_async,
    };
    Ok(Timeout {
        operation,
        timeout,
        enforce,
    })
}

fn cache(args: &Args) -> syn::Result<Cache> {
    let (word, span) = args
        .word("cache_type", &["tools", "gateway_config", "server_config"])?
        .ok_or_else(|| {
            syn::Error::new(
                args.span,
                "#[cache_lookup] needs `cache_type = tools`, `gateway_config` or `server_config`",
            )
        })?;
    let variant = match word.as_str() {
        "tools" => "Tools",
        "gateway_config" => "GatewayConfig",
        _ => "ServerConfig",
    };
    Ok(Cache {
        cache_type: Ident::new(variant, span),
    })
}

fn auth(args: &Args, func: &Func) -> syn::Result<Auth> {
    let provider = args.str("provider", "\"api_key\"")?.ok_or_else(|| {
        syn::Error::new(
            args.span,
            "#[auth_check] needs `provider = \"...\"`, the auth_provider label (e.g. \"api_key\")",
        )
    })?;
    Ok(Auth {
        provider,
        project: Label::resolve(args, func, "project", "project_id", "auth_check", false)?,
    })
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
    let classify = needs_classification.then(|| {
        generated! {
            let __mr_classified = {
                use #p::{ViaAnything as _, ViaErrorType as _, ViaTypeName as _};
                (&&&#p::Classify(&__mr_result)).classify()
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
