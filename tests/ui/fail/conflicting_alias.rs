use mcp_gateway_metrics::tool_call;

#[tool_call(server = "github", server_name = "jira", tool = "search")]
fn call() {}

fn main() {}
