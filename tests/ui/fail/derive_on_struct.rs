use metrics_runtime::ErrorType;

#[derive(ErrorType)]
struct Failed;

fn main() {}
