use mcp_gateway_metrics::tool_call;

#[tool_call]
fn call(server_name: &str) -> usize {
    server_name.len()
}

fn main() {}
