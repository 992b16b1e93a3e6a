use mcp_gateway_metrics::guardrail_check;

#[guardrail_check(direction = input, endpoint = "/guardrails/pii")]
fn check(server_name: &str, tool_name: &str) -> String {
    let _ = (server_name, tool_name);
    String::new()
}

fn main() {}
