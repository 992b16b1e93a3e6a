//! Gateway-shaped functions under every attribute, compiled with instrumentation off.

use std::time::Duration;

use mcp_gateway_metrics::{
    auth_check, cache_lookup, guardrail_check, timeout_op, tool_call, ErrorType, GuardrailVerdict,
    Timeout,
};

#[derive(Debug, ErrorType)]
pub enum GatewayError {
    Upstream,
    #[error_type(transparent)]
    Timeout(Timeout),
}

impl From<Timeout> for GatewayError {
    fn from(t: Timeout) -> Self {
        GatewayError::Timeout(t)
    }
}

#[tool_call]
#[timeout_op(operation = "tool_execution", timeout = "10ms")]
pub async fn call(
    server_name: &str,
    tool_name: &str,
    work: Duration,
) -> Result<String, GatewayError> {
    tokio::time::sleep(work).await;
    Ok(format!("{server_name}/{tool_name}"))
}

#[timeout_op(operation = "discovery")] // the configured timeout of discovery
pub async fn discover(work: Duration) -> Result<(), Timeout> {
    tokio::time::sleep(work).await;
    Ok(())
}

#[tool_call(server = "github", tool = "fail")]
pub fn fail() -> Result<(), GatewayError> {
    Err(GatewayError::Upstream)
}

#[guardrail_check(direction = input, endpoint = "/guardrails/pii")]
pub fn check(server_name: &str, tool_name: &str) -> GuardrailVerdict {
    let _ = (server_name, tool_name);
    GuardrailVerdict::default()
        .violation("pii", "pii_detector")
        .block("pii")
}

#[cache_lookup(cache_type = tools)]
pub fn lookup(hit: bool) -> Option<u8> {
    hit.then_some(1)
}

#[auth_check(provider = "api_key")]
pub fn login(ok: bool) -> Result<(), GatewayError> {
    if ok {
        Ok(())
    } else {
        Err(GatewayError::Upstream)
    }
}
