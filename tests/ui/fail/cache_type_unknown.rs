use mcp_gateway_metrics::cache_lookup;

#[cache_lookup(cache_type = tool)]
fn lookup() -> Option<u32> {
    None
}

fn main() {}
