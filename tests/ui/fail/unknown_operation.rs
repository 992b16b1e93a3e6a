use metrics_runtime::timeout_op;

#[timeout_op(operation = "guardrails")]
async fn check() -> Result<(), metrics_runtime::Timeout> {
    Ok(())
}

fn main() {}
