use metrics_runtime::auth_check;

#[auth_check]
fn login() -> Result<(), String> {
    Ok(())
}

fn main() {}
