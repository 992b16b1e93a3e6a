//! A type error in an instrumented body is reported on the body's own line, as it is without
//! the attribute, not on the attribute.

use mcp_gateway_metrics::{timeout_op, tool_call, Timeout};

#[tool_call(server = "s", tool = "returns")]
async fn returns(flag: bool) -> Result<u32, Timeout> {
    if flag {
        return Ok("not a number");
    }
    Ok(1)
}

#[tool_call(server = "s", tool = "tail")]
#[timeout_op(operation = tool_execution, timeout = "1s")]
async fn tail() -> Result<u32, Timeout> {
    Ok("tail")
}

#[tool_call(server = "s", tool = "sync_tail")]
fn sync_tail() -> u32 {
    "tail"
}

fn main() {}
