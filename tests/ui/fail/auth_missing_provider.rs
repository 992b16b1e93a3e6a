use mcp_gateway_metrics::auth_check;

#[auth_check]
fn login() -> Result<(), String> {
    Ok(())
}

fn main() {}
