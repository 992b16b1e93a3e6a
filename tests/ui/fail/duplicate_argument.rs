use mcp_gateway_metrics::tool_call;

#[tool_call(server = "github", tool = "search", server = "jira")]
fn call() {}

fn main() {}
