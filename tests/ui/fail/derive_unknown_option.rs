use metrics_runtime::ErrorType;

#[derive(ErrorType)]
enum Failed {
    #[error_type(retryable)]
    Upstream,
}

fn main() {}
