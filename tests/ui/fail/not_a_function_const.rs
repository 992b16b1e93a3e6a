use mcp_gateway_metrics::guardrail_check;

#[guardrail_check(direction = input, endpoint = "/guardrails/pii")]
const LIMIT: u32 = 3;

fn main() {}
