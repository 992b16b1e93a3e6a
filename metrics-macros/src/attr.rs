//! Each attribute's arguments, parsed into what they mean: label sources, the operation and
//! its deadline, the verdict direction... One [`Plan`] holds every attribute on a function
//! (the one expanding and its siblings); `expand.rs` only generates code from it. The
//! `key = value` grammar they share is in `syntax.rs`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr, Path};

use crate::cardinality;
use crate::func::Func;
use crate::syntax::{self, Args, Key, RawArgs, Spec};

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
pub enum Label {
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
}

pub struct ToolCall {
    pub server: Label,
    pub tool: Label,
    pub project: Label,
}

pub struct Guardrail {
    pub direction: Ident,
    pub endpoint: LitStr,
    pub server: Label,
    pub tool: Label,
}

pub struct Timeout {
    pub operation: Ident,
    pub timeout: Option<u64>,
    pub enforce: bool,
}

pub struct Cache {
    pub cache_type: Ident,
}

pub struct Auth {
    pub provider: LitStr,
    pub project: Label,
}

/// Everything requested for one function.
#[derive(Default)]
pub struct Plan {
    pub tool_call: Option<ToolCall>,
    pub guardrail: Option<Guardrail>,
    pub timeout: Option<Timeout>,
    pub cache: Option<Cache>,
    pub auth: Option<Auth>,
    pub runtime: Option<Path>,
}

pub fn plan(
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
            u64::try_from(syntax::duration(&lit)?.as_nanos())
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
