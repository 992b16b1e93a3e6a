use metrics_runtime::tool_call;

#[tool_call(sever = "github", tool = "search")]
fn call() {}

fn main() {}
