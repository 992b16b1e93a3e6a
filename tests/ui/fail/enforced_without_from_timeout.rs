use mcp_gateway_metrics::timeout_op;

#[derive(Debug)]
struct UpstreamError;

#[timeout_op(operation = tool_execution, timeout = "1s")]
async fn call() -> Result<u32, UpstreamError> {
    Ok(1)
}

fn main() {}
