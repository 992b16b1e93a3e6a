//! Every asynchronous shape: async free functions and methods, generics, trait impls with
//! native `async fn`, and `#[async_trait]` impls and default methods (where `#[async_trait]`
//! on the impl or trait expands first and the attribute sees the boxed future it made).

use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{guardrail_check, timeout_op, tool_call, GuardrailVerdict, Timeout};

#[tool_call(server = "s", tool = "free")]
#[timeout_op(operation = "tool_execution", timeout = "5s")]
async fn free(x: u32) -> Result<u32, Timeout> {
    Ok(x + 1)
}

struct Gateway {
    calls: u32,
}

impl Gateway {
    #[tool_call(server = "s", tool = "by_ref")]
    async fn peek(&self) -> u32 {
        self.calls
    }

    #[tool_call(server = "s", tool = "by_mut")]
    async fn bump(&mut self) -> &mut u32 {
        self.calls += 1;
        &mut self.calls
    }

    #[tool_call(server = "s", tool = "by_value")]
    async fn finish(self) -> u32 {
        self.calls
    }
}

#[tool_call(server = "s", tool = "generic")]
async fn echo<T: Send + std::fmt::Debug>(value: T) -> T {
    value
}

trait Upstream {
    async fn call(&self, tool_name: &str) -> Result<String, Timeout>;
}

struct Github;

impl Upstream for Github {
    #[tool_call(server = "github")]
    async fn call(&self, tool_name: &str) -> Result<String, Timeout> {
        Ok(tool_name.to_uppercase())
    }
}

#[async_trait::async_trait]
trait Checker {
    async fn check(&self, server_name: &str, tool_name: &str) -> GuardrailVerdict;

    // A default method, instrumented in the trait itself.
    #[guardrail_check(direction = output, endpoint = "/guardrails/adherence")]
    async fn check_twice(&self, server_name: &str, tool_name: &str) -> GuardrailVerdict {
        GuardrailVerdict::default()
    }
}

struct Local;

#[async_trait::async_trait]
impl Checker for Local {
    #[guardrail_check(direction = input, endpoint = "/guardrails/policy/detect")]
    #[tool_call] // composes with the check; labels from the parameters
    async fn check(&self, server_name: &str, tool_name: &str) -> GuardrailVerdict {
        GuardrailVerdict::default().violation("toxicity", "toxicity_detector")
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let meter = TestMeter::new();
    assert_eq!(free(1).await.unwrap(), 2);
    let mut gateway = Gateway { calls: 0 };
    *gateway.bump().await += 1;
    assert_eq!(gateway.peek().await, 2);
    assert_eq!(gateway.finish().await, 2);
    assert_eq!(echo("x").await, "x");
    assert_eq!(Github.call("search").await.unwrap(), "SEARCH");
    Local.check("github", "search").await;
    Local.check_twice("github", "search").await;

    assert_eq!(meter.counter("enkrypt_tool_calls_total", &[]), 7);
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &[("server_name", "github"), ("tool_name", "search")]), 2);
    assert_eq!(meter.counter("enkrypt_api_requests_total", &[("endpoint", "/guardrails/adherence")]), 1);
    assert_eq!(meter.counter("enkrypt_input_guardrail_violations_total", &[("violation_type", "toxicity")]), 1);
}
