use mcp_gateway_metrics::timeout_op;

#[timeout_op(operation = "tool_execution")]
async fn run() -> u32 {
    1
}

fn main() {}
