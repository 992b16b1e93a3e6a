//! Return types that must flow into the instrumented body as they do without the attribute:
//! coercing `return`s in async bodies, `impl Trait` inside a `Result`, `-> !`, a hand-written
//! boxed future that is not an `#[async_trait]` method, `#[track_caller]` with coercing
//! returns, a `Result` alias under an enforced deadline, and bodies that always diverge,
//! all under `#![deny(warnings)]`. Each call's outcome is checked.

#![deny(warnings)]

use std::error::Error;
use std::fmt::{self, Display};
use std::future::Future;
use std::pin::Pin;

use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{timeout_op, tool_call, ErrorType, Timeout};

#[derive(Debug)]
struct MyErr;

impl Display for MyErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mine")
    }
}

impl Error for MyErr {}

#[tool_call(server = "s", tool = "boxed_error")]
async fn boxed_error(fail: bool) -> Result<u32, Box<dyn Error>> {
    if fail {
        return Err(Box::new(MyErr));
    }
    Ok(1)
}

#[tool_call(server = "s", tool = "dyn_display")]
async fn dyn_display(number: bool) -> Box<dyn Display> {
    if number {
        return Box::new(1u32);
    }
    Box::new("two")
}

#[tool_call(server = "s", tool = "impl_in_result")]
fn impl_in_result(fail: bool) -> Result<impl Display, std::io::Error> {
    if fail {
        return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
    }
    Ok(5u32)
}

#[tool_call(server = "s", tool = "async_impl")]
async fn async_impl() -> impl Display {
    5u32
}

#[tool_call(server = "s", tool = "never")]
fn never(code: i32) -> ! {
    std::process::exit(code)
}

#[tool_call(server = "s", tool = "never_async")]
async fn never_async(code: i32) -> ! {
    std::process::exit(code)
}

/// A plain function that returns a boxed future: not an `#[async_trait]` method, so the call
/// is the creation of the future, a success.
#[tool_call(server = "s", tool = "pinned")]
fn pinned() -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(std::future::ready(1))
}

#[track_caller]
#[timeout_op(operation = cache, timeout = "1s")]
fn tracked(number: bool) -> Box<dyn Display> {
    if number {
        return Box::new(1u32);
    }
    Box::new("x")
}

type Res<T> = Result<T, Timeout>;

#[timeout_op(operation = discovery, timeout = "1s")]
async fn aliased() -> Res<u32> {
    Ok(1)
}

#[derive(Debug, ErrorType)]
enum GatewayError {
    #[error_type(name = "policy", blocked)]
    Blocked,
}

/// A generic error with an `ErrorType` bound is classified by its variants.
#[tool_call(server = "s", tool = "generic_error")]
fn generic_error<E: mcp_gateway_metrics::ErrorType>(error: E) -> Result<u32, E> {
    Err(error)
}

#[tool_call(server = "s", tool = "diverges")]
fn diverges() -> Result<u32, MyErr> {
    panic!("always")
}

#[tool_call(server = "s", tool = "diverges_async")]
async fn diverges_async() -> Result<u32, MyErr> {
    panic!("always")
}

#[track_caller]
#[tool_call(server = "s", tool = "diverges_tracked")]
fn diverges_tracked() -> u32 {
    panic!("always")
}

/// The label's parameter is only used by the label.
#[tool_call]
fn underscored(_server_name: &str, _tool_name: &str) -> u32 {
    7
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let meter = TestMeter::new();
    let calls = |tool: &str| meter.counter("enkrypt_tool_calls_total", &[("tool_name", tool)]);
    let failures = |tool: &str, error_type: &str| {
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[("tool_name", tool), ("error_type", error_type)],
        )
    };

    assert_eq!(boxed_error(false).await.unwrap(), 1);
    assert!(boxed_error(true).await.is_err());
    assert_eq!(failures("boxed_error", "boxed_error"), 1);

    assert_eq!(dyn_display(true).await.to_string(), "1");
    assert_eq!(dyn_display(false).await.to_string(), "two");
    assert_eq!(calls("dyn_display"), 2);

    assert_eq!(impl_in_result(false).unwrap().to_string(), "5");
    assert!(impl_in_result(true).is_err());
    assert_eq!(failures("impl_in_result", "not_found"), 1);

    assert_eq!(async_impl().await.to_string(), "5");
    assert_eq!(pinned().await, 1);
    assert_eq!(calls("pinned"), 1);
    assert_eq!(meter.counter("enkrypt_tool_call_success_total", &[("tool_name", "pinned")]), 1);

    assert_eq!(tracked(true).to_string(), "1");
    assert_eq!(tracked(false).to_string(), "x");
    assert_eq!(aliased().await, Ok(1));
    assert_eq!(meter.counter("enkrypt_timeout_operations_successful", &[("operation_type", "cache")]), 2);
    assert_eq!(meter.counter("enkrypt_timeout_operations_successful", &[("operation_type", "discovery")]), 1);

    assert!(generic_error(GatewayError::Blocked).is_err());
    assert_eq!(meter.counter("enkrypt_tool_call_blocked_total", &[("tool_name", "generic_error")]), 1);

    std::panic::set_hook(Box::new(|_| {}));
    assert!(std::panic::catch_unwind(diverges).is_err());
    assert!(std::panic::catch_unwind(diverges_tracked).is_err());
    assert!(tokio::spawn(diverges_async()).await.is_err());
    for tool in ["diverges", "diverges_tracked", "diverges_async"] {
        assert_eq!(calls(tool), 1, "{tool}");
        assert_eq!(failures(tool, "panic"), 1, "{tool}");
    }

    assert_eq!(underscored("github", "search"), 7);
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &[("server_name", "github"), ("tool_name", "search")]),
        1
    );
    if calls("never") > 0 {
        never(1);
    }
    if calls("never_async") > 0 {
        never_async(1).await;
    }
}
