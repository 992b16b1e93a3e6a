use mcp_gateway_metrics::timeout_op;

#[timeout_op(operation = "guardrail", timeout = "0s")]
async fn check() -> Result<(), mcp_gateway_metrics::Timeout> {
    Ok(())
}

fn main() {}
