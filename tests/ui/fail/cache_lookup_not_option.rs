use mcp_gateway_metrics::cache_lookup;

#[cache_lookup(cache_type = tools)]
fn lookup() -> bool {
    false
}

fn main() {}
