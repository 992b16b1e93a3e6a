use metrics_runtime::tool_call;

#[tool_call(server = "github", tool = "search")]
#[tool_call(server = "github", tool = "search")]
fn call() {}

fn main() {}
