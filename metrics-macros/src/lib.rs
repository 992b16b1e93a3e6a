//! Attribute macros for `mcp-gateway-metrics`.
//!
//! This crate is an implementation detail: depend on `mcp-gateway-metrics` and use the macros it
//! re-exports (`use mcp_gateway_metrics::tool_call;`). `syntax.rs` reads the `key = value`
//! grammar, `attr.rs` turns each attribute into typed arguments, `func.rs` understands the
//! function and wraps its body, `expand.rs` only generates the instrumented code, which calls into
//! `::mcp_gateway_metrics::__private`. The recording logic lives in the runtime, where it is tested.
//!
//! Without the `instrument` feature (enabled by `mcp-gateway-metrics/instrument`, a default),
//! every attribute still checks its arguments, then returns the function unchanged, except
//! that an enforced `#[timeout_op]` keeps its deadline.

use proc_macro::TokenStream;

/// `quote!` for generated code: its own tokens get `Span::mixed_site()`, so the locals and
/// labels it introduces (`__mr_call`, `__mr_result`, `'__mr_body`) are invisible to the user's
/// code, like a `macro_rules!` macro's, while paths still resolve where the function is.
/// Interpolated tokens (the user's body, label expressions) keep their own spans.
macro_rules! generated {
    ($($tokens:tt)*) => {
        ::quote::quote_spanned!(::proc_macro2::Span::mixed_site()=> $($tokens)*)
    };
}

mod attr;
mod cardinality;
mod derive;
mod expand;
mod func;
mod snake;
#[cfg(test)]
mod snapshots;
mod syntax;

/// (Defined in `mcp-gateway-metrics-macros`; use it from `mcp_gateway_metrics`, whose
/// documentation of `tool_call` is the reference.)
#[proc_macro_attribute]
pub fn tool_call(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand("tool_call", args.into(), item.into()).into()
}

/// (Defined in `mcp-gateway-metrics-macros`; use it from `mcp_gateway_metrics`, whose
/// documentation of `guardrail_check` is the reference.)
#[proc_macro_attribute]
pub fn guardrail_check(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand("guardrail_check", args.into(), item.into()).into()
}

/// (Defined in `mcp-gateway-metrics-macros`; use it from `mcp_gateway_metrics`, whose
/// documentation of `timeout_op` is the reference.)
#[proc_macro_attribute]
pub fn timeout_op(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand("timeout_op", args.into(), item.into()).into()
}

/// (Defined in `mcp-gateway-metrics-macros`; use it from `mcp_gateway_metrics`, whose
/// documentation of `cache_lookup` is the reference.)
#[proc_macro_attribute]
pub fn cache_lookup(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand("cache_lookup", args.into(), item.into()).into()
}

/// (Defined in `mcp-gateway-metrics-macros`; use it from `mcp_gateway_metrics`, whose
/// documentation of `auth_check` is the reference.)
#[proc_macro_attribute]
pub fn auth_check(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand("auth_check", args.into(), item.into()).into()
}

/// Derives `mcp_gateway_metrics::ErrorType` for an error enum.
#[proc_macro_derive(ErrorType, attributes(error_type))]
pub fn derive_error_type(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::derive(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
