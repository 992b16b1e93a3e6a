use metrics_runtime::tool_call;

#[tool_call(server = "github", tool = "search")]
const fn call() -> u32 {
    1
}

fn main() {}
