use metrics_runtime::ErrorType;

#[derive(ErrorType)]
enum Failed {
    #[error_type(status = 99)]
    Upstream,
}

fn main() {}
