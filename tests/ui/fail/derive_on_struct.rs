use mcp_gateway_metrics::ErrorType;

#[derive(ErrorType)]
struct Failed;

fn main() {}
