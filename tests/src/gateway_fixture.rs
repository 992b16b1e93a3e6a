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

/// The verdict of a toy injection detector: blocks text that asks to ignore previous
/// instructions.
pub fn injection_verdict(text: &str) -> mcp_gateway_metrics::GuardrailVerdict {
    let verdict = mcp_gateway_metrics::GuardrailVerdict::default();
    if text.contains("ignore previous instructions") {
        verdict
            .violation("injection_attack", "injection_detector")
            .block("injection_attack")
    } else {
        verdict
    }
}

impl From<Timeout> for GatewayError {
    fn from(t: Timeout) -> Self {
        GatewayError::Timeout(t)
    }
}
