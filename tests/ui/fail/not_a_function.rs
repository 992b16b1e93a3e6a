use mcp_gateway_metrics::tool_call;

#[tool_call(server = "github", tool = "search")]
struct Call;

fn main() {}
