//! A small gateway-shaped error type and verdicts, shared by the macro tests.

use mcp_gateway_metrics::{ErrorType, Timeout};

/// What the test gateway's functions fail with.
#[derive(Debug, ErrorType)]
pub enum GatewayError {
    /// `upstream_unavailable`
    UpstreamUnavailable,
    /// `bad_arguments`, status 400
    #[error_type("bad_arguments", status = 400)]
    InvalidArguments(String),
    /// A guardrail blocked the call: `injection_attack`.
    #[error_type(blocked)]
    InjectionAttack,
    /// The deadline passed: `timeout` (from [`Timeout`]).
    #[error_type(transparent)]
    Timeout(Timeout),
}

impl From<Timeout> for GatewayError {
    fn from(t: Timeout) -> Self {
        GatewayError::Timeout(t)
    }
}
