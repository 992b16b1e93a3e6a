use mcp_gateway_metrics::tool_call;

#[tool_call(server = "s", tool = "t")]
fn call<E: std::fmt::Debug>(error: E) -> Result<u32, E> {
    Err(error)
}

fn main() {}
