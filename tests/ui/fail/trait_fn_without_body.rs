use mcp_gateway_metrics::tool_call;

trait Gateway {
    #[tool_call(server = "github", tool = "search")]
    fn call(&self);
}

fn main() {}
