use metrics_runtime::ErrorType;

#[derive(ErrorType)]
enum Failed {
    #[error_type("Upstream Error")]
    Upstream,
}

fn main() {}
