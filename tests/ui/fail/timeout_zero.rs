use metrics_runtime::timeout_op;

#[timeout_op(operation = "guardrail", timeout = "0s")]
async fn check() -> Result<(), metrics_runtime::Timeout> {
    Ok(())
}

fn main() {}
