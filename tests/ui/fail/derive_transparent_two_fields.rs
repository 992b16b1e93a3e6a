use metrics_runtime::ErrorType;

#[derive(ErrorType)]
enum Failed {
    #[error_type(transparent)]
    Wrapped(metrics_runtime::Timeout, String),
}

fn main() {}
