use metrics_runtime::tool_call;

#[tool_call(server = "github", tool = "search", crate = "metrics_runtime")]
fn call() {}

fn main() {}
