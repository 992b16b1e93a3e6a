use mcp_gateway_metrics::tool_call;

#[tool_call(sever = "github", tool = "search")]
fn call() {}

fn main() {}
