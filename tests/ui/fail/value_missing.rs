use metrics_runtime::tool_call;

#[tool_call(server, tool = "search")]
fn call() {}

fn main() {}
