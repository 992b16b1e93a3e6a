use mcp_gateway_metrics::{guardrail_check, GuardrailVerdict};

#[guardrail_check(direction = input)]
fn check(server_name: &str, tool_name: &str) -> GuardrailVerdict {
    let _ = (server_name, tool_name);
    GuardrailVerdict::default()
}

fn main() {}
