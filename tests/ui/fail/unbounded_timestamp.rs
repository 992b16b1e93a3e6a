use mcp_gateway_metrics::auth_check;

#[auth_check(provider = "api_key", project = timestamp.to_string())]
fn login(timestamp: u64) -> Result<(), String> {
    let _ = timestamp;
    Ok(())
}

fn main() {}
