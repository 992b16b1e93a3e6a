use metrics_runtime::timeout_op;

#[timeout_op(operation = "cache", enforce = "yes")]
async fn lookup() -> Result<(), metrics_runtime::Timeout> {
    Ok(())
}

fn main() {}
