//! Helpers shared by the workspace tests.

pub mod binaries;
pub mod error_types;
pub mod exposition;

/// Builds a configuration against an explicit environment (`name=value` pairs) instead of the
/// process's.
pub fn config_with_env(
    builder: mcp_gateway_metrics::ConfigBuilder,
    vars: &[(&str, &str)],
) -> Result<mcp_gateway_metrics::Config, mcp_gateway_metrics::ConfigError> {
    let env: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    builder.build_with_env(move |name| env.get(name).cloned())
}
pub mod gateway_fixture;
pub mod gateway_harness;
pub mod otlp_receiver;
pub mod prometheus;
pub mod tracing_capture;

// README's Rust examples compile and run as doctests of this crate.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
