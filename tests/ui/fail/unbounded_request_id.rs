use mcp_gateway_metrics::tool_call;

struct Request {
    request_id: String,
}

#[tool_call(server = req.request_id.as_str(), tool = "search")]
fn call(req: &Request) {
    let _ = req;
}

fn main() {}
