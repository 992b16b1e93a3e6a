use mcp_gateway_metrics::tool_call;

#[tool_call(server = "github", tool = "search")]
#[tool_call(server = "github", tool = "search")]
fn call() {}

fn main() {}
