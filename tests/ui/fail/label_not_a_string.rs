use mcp_gateway_metrics::tool_call;

#[tool_call(tool = "search")]
fn call(server_name: u32) {}

fn main() {}
