use mcp_gateway_metrics::ErrorType;

#[derive(ErrorType)]
enum Failed {
    #[error_type(transparent)]
    Wrapped(mcp_gateway_metrics::Timeout, String),
}

fn main() {}
