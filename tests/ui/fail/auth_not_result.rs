use mcp_gateway_metrics::auth_check;

#[auth_check(provider = "api_key")]
fn login() -> bool {
    true
}

fn main() {}
