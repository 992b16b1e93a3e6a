use mcp_gateway_metrics::timeout_op;

#[timeout_op(operation = "cache", enforce = "yes")]
async fn lookup() -> Result<(), mcp_gateway_metrics::Timeout> {
    Ok(())
}

fn main() {}
