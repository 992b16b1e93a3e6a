use metrics_runtime::tool_call;

#[tool_call(server = "github", server_name = "jira", tool = "search")]
fn call() {}

fn main() {}
