use mcp_gateway_metrics::ErrorType;

#[derive(ErrorType)]
enum Failed {
    #[error_type(retryable)]
    Upstream,
}

fn main() {}
