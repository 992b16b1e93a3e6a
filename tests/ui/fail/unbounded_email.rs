use mcp_gateway_metrics::tool_call;

struct User {
    email: String,
}

#[tool_call(server = "github", tool = "search", project = user.email.as_str())]
fn call(user: &User) {
    let _ = user;
}

fn main() {}
