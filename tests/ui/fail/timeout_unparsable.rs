use mcp_gateway_metrics::timeout_op;

#[timeout_op(operation = "guardrail", timeout = "15 parsecs")]
async fn check() -> Result<(), mcp_gateway_metrics::Timeout> {
    Ok(())
}

fn main() {}
