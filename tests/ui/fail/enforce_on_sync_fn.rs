use mcp_gateway_metrics::timeout_op;

#[timeout_op(operation = "cache", timeout = "5s", enforce = true)]
fn lookup() -> Result<(), mcp_gateway_metrics::Timeout> {
    Ok(())
}

fn main() {}
