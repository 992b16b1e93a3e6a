use mcp_gateway_metrics::ErrorType;

#[derive(ErrorType)]
enum Failed {
    #[error_type(status = 99)]
    Upstream,
}

fn main() {}
