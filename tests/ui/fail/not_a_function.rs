use metrics_runtime::tool_call;

#[tool_call(server = "github", tool = "search")]
struct Call;

fn main() {}
