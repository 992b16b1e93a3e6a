use mcp_gateway_metrics::ErrorType;

#[derive(ErrorType)]
enum Failed {
    #[error_type("Upstream Error")]
    Upstream,
}

fn main() {}
