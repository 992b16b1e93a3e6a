use mcp_gateway_metrics::tool_call;

#[tool_call(server = "github", tool = "search")]
const fn call() -> u32 {
    1
}

fn main() {}
