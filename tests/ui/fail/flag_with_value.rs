use mcp_gateway_metrics::tool_call;

#[tool_call(server = "github", tool = "search", allow_unbounded_labels = true)]
fn call() {}

fn main() {}
