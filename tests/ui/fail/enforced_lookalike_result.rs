use mcp_gateway_metrics::timeout_op;

/// Named like a `Result`, but a struct (as rmcp's `CallToolResult` is).
struct CallToolResult;

#[timeout_op(operation = tool_execution, timeout = "1s")]
async fn call() -> CallToolResult {
    CallToolResult
}

fn main() {}
