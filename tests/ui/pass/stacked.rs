//! Every attribute stacked on one function, in both orders: the expansion is the same (one
//! nesting, whatever the order), so both functions record the same series. Labels come from
//! the parameters, which every attribute reads.

use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{
    auth_check, cache_lookup, guardrail_check, timeout_op, tool_call, GuardrailVerdict, Timeout,
};

#[tool_call]
#[guardrail_check(direction = input, endpoint = "/guardrails/policy/detect")]
#[timeout_op(operation = guardrail, timeout = "5s")]
async fn forward(server_name: &str, tool_name: &str, block: bool) -> Result<GuardrailVerdict, Timeout> {
    let _ = (server_name, tool_name);
    let verdict = GuardrailVerdict::default();
    Ok(if block { verdict.violation("pii", "pii_detector").block("pii") } else { verdict })
}

#[timeout_op(operation = guardrail, timeout = "5s")]
#[guardrail_check(direction = input, endpoint = "/guardrails/policy/detect")]
#[tool_call]
async fn backward(server_name: &str, tool_name: &str, block: bool) -> Result<GuardrailVerdict, Timeout> {
    let _ = (server_name, tool_name);
    let verdict = GuardrailVerdict::default();
    Ok(if block { verdict.violation("pii", "pii_detector").block("pii") } else { verdict })
}

#[tool_call]
#[guardrail_check(direction = output, endpoint = "/guardrails/adherence")]
#[timeout_op(operation = guardrail, timeout = "5s")]
fn sync_forward(server_name: &str, tool_name: &str) -> GuardrailVerdict {
    let _ = (server_name, tool_name);
    GuardrailVerdict::default()
}

#[timeout_op(operation = guardrail, timeout = "5s")]
#[guardrail_check(direction = output, endpoint = "/guardrails/adherence")]
#[tool_call]
fn sync_backward(server_name: &str, tool_name: &str) -> GuardrailVerdict {
    let _ = (server_name, tool_name);
    GuardrailVerdict::default()
}

#[auth_check(provider = "api_key")]
#[timeout_op(operation = auth, timeout = "5s")]
async fn auth_forward(key: &str) -> Result<(), Timeout> {
    let _ = key;
    Ok(())
}

#[timeout_op(operation = auth, timeout = "5s")]
#[auth_check(provider = "api_key")]
async fn auth_backward(key: &str) -> Result<(), Timeout> {
    let _ = key;
    Ok(())
}

#[cache_lookup(cache_type = tools)]
#[timeout_op(operation = cache, timeout = "5s", enforce = false)]
async fn cache_forward() -> Option<u8> {
    Some(1)
}

#[timeout_op(operation = cache, timeout = "5s", enforce = false)]
#[cache_lookup(cache_type = tools)]
async fn cache_backward() -> Option<u8> {
    None
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let meter = TestMeter::new();
    forward("s", "forward", true).await.unwrap();
    backward("s", "backward", true).await.unwrap();
    sync_forward("s", "sync_forward");
    sync_backward("s", "sync_backward");
    auth_forward("k").await.unwrap();
    auth_backward("k").await.unwrap();
    assert_eq!(cache_forward().await, Some(1));
    assert_eq!(cache_backward().await, None);

    for tool in ["forward", "backward"] {
        let labels = [("tool_name", tool)];
        assert_eq!(meter.counter("enkrypt_tool_calls_total", &labels), 1, "{tool}");
        assert_eq!(meter.counter("enkrypt_tool_call_blocked_total", &labels), 1, "{tool}");
    }
    assert_eq!(meter.counter("enkrypt_input_guardrail_violations_total", &[("violation_type", "pii")]), 2);
    for tool in ["sync_forward", "sync_backward"] {
        let labels = [("tool_name", tool)];
        assert_eq!(meter.counter("enkrypt_tool_call_success_total", &labels), 1, "{tool}");
    }
    assert_eq!(meter.counter("enkrypt_api_requests_total", &[("endpoint", "/guardrails/policy/detect")]), 2);
    assert_eq!(meter.counter("enkrypt_api_requests_total", &[("endpoint", "/guardrails/adherence")]), 2);
    assert_eq!(meter.counter("enkrypt_timeout_operations_successful", &[("operation_type", "guardrail")]), 4);
    assert_eq!(meter.counter("enkrypt_auth_success_total", &[("auth_provider", "api_key")]), 2);
    assert_eq!(meter.counter("enkrypt_timeout_operations_successful", &[("operation_type", "auth")]), 2);
    assert_eq!(meter.counter("enkrypt_cache_hits_total", &[("cache_type", "tools")]), 1);
    assert_eq!(meter.counter("enkrypt_cache_misses_total", &[("cache_type", "tools")]), 1);
    assert_eq!(meter.counter("enkrypt_timeout_operations_successful", &[("operation_type", "cache")]), 2);
}
