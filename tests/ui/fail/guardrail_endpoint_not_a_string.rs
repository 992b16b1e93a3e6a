use mcp_gateway_metrics::{guardrail_check, GuardrailVerdict};

const ENDPOINT: &str = "/guardrails/pii";

#[guardrail_check(direction = input, endpoint = ENDPOINT)]
fn check(server_name: &str, tool_name: &str) -> GuardrailVerdict {
    let _ = (server_name, tool_name);
    GuardrailVerdict::default()
}

fn main() {}
