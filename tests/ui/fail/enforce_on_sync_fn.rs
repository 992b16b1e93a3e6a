use metrics_runtime::timeout_op;

#[timeout_op(operation = "cache", timeout = "5s", enforce = true)]
fn lookup() -> Result<(), metrics_runtime::Timeout> {
    Ok(())
}

fn main() {}
