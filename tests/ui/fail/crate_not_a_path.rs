use mcp_gateway_metrics::tool_call;

#[tool_call(server = "github", tool = "search", crate = "mcp_gateway_metrics")]
fn call() {}

fn main() {}
