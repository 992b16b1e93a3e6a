use mcp_gateway_metrics::tool_call;

#[tool_call(tool = "search")]
fn call(query: &str) -> usize {
    query.len()
}

fn main() {}
