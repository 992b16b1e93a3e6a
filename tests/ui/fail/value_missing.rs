use mcp_gateway_metrics::tool_call;

#[tool_call(server, tool = "search")]
fn call() {}

fn main() {}
