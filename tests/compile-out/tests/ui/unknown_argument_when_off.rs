use mcp_gateway_metrics::tool_call;

#[tool_call(server = "github", tool = "search", retries = 3)]
fn call() {}

fn main() {}
