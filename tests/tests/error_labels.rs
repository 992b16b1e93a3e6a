//! Error labels a team can trust for the error types it returns without defining its own:
//! `io::Error` by its kind, a boxed error by what it holds, `anyhow::Error` the same (feature
//! `anyhow`). Before, they were labelled `error`, `box` and `error` after their type names.

use std::error::Error;
use std::io::ErrorKind;
use std::time::Duration;

use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{tool_call, OperationType, Timeout};
use tests::error_types::SixErrors;

#[tool_call(server = "s", tool = "io")]
fn io_refused() -> Result<(), std::io::Error> {
    Err(ErrorKind::ConnectionRefused.into())
}

#[tool_call(server = "s", tool = "io")]
fn io_reset() -> Result<(), std::io::Error> {
    Err(ErrorKind::ConnectionReset.into())
}

#[tool_call(server = "s", tool = "boxed")]
fn boxed(timeout: bool) -> Result<(), Box<dyn Error + Send + Sync>> {
    if timeout {
        Err(Box::new(Timeout::new(
            OperationType::ToolExecution,
            Duration::from_secs(1),
        )))
    } else {
        Err("no such tool".into())
    }
}

#[tool_call(server = "s", tool = "anyhow")]
fn with_anyhow(io: bool) -> anyhow::Result<()> {
    if io {
        Err(anyhow::Error::new(std::io::Error::from(ErrorKind::NotFound)).context("reading"))
    } else {
        Err(anyhow::anyhow!("something else"))
    }
}

fn failures(meter: &TestMeter, tool: &str, error_type: &str) -> u64 {
    meter.counter(
        "enkrypt_tool_call_failure_total",
        &[("tool_name", tool), ("error_type", error_type)],
    )
}

#[test]
fn standard_errors_get_labels_that_say_what_happened() {
    let meter = TestMeter::new();
    io_refused().unwrap_err();
    io_reset().unwrap_err();
    boxed(true).unwrap_err();
    boxed(false).unwrap_err();
    with_anyhow(true).unwrap_err();
    with_anyhow(false).unwrap_err();

    assert_eq!(failures(&meter, "io", "connection_refused"), 1);
    assert_eq!(failures(&meter, "io", "connection_reset"), 1);
    // The upstream went away: a crash, also counted as an error.
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_error_counter",
            &[("error_type", "connection_reset")]
        ),
        1
    );
    assert_eq!(failures(&meter, "boxed", "timeout"), 1);
    assert_eq!(failures(&meter, "boxed", "boxed_error"), 1);
    assert_eq!(failures(&meter, "anyhow", "not_found"), 1);
    assert_eq!(failures(&meter, "anyhow", "anyhow_error"), 1);
    assert_eq!(meter.counter("enkrypt_tool_call_failure_total", &[]), 6);
}

/// An error type of the application's without an `ErrorType` impl.
#[derive(Debug)]
struct UpstreamRefused;

#[tool_call(server = "s", tool = "plain")]
fn plain() -> Result<(), UpstreamRefused> {
    Err(UpstreamRefused)
}

/// The same type under another name: the label is the name the signature writes, not
/// whatever `std::any::type_name` prints with this compiler.
type Refusal = UpstreamRefused;

#[tool_call(server = "s", tool = "aliased")]
fn aliased() -> Result<(), Refusal> {
    Err(UpstreamRefused)
}

#[derive(Debug, mcp_gateway_metrics::ErrorType)]
enum GatewayError {
    #[error_type(name = "upstream_down", crash)]
    UpstreamDown,
}

/// A generic error with the bound is classified by the instance's variants.
#[tool_call(server = "s", tool = "generic")]
fn generic<E: mcp_gateway_metrics::ErrorType>(error: E) -> Result<(), E> {
    Err(error)
}

#[test]
fn other_errors_are_labelled_by_the_name_their_signature_writes() {
    let meter = TestMeter::new();
    plain().unwrap_err();
    aliased().unwrap_err();
    generic(GatewayError::UpstreamDown).unwrap_err();
    assert_eq!(failures(&meter, "plain", "upstream_refused"), 1);
    assert_eq!(failures(&meter, "aliased", "refusal"), 1);
    assert_eq!(failures(&meter, "generic", "upstream_down"), 1);
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_error_counter",
            &[("error_type", "upstream_down")]
        ),
        1
    );
}

#[tool_call(server = "s", tool = "many")]
fn fail_with(error: SixErrors) -> Result<(), SixErrors> {
    Err(error)
}

/// A label set keeps bound failure counters for its first few error types; the others take
/// the lookup path. Every failure is counted under its own error type either way.
#[test]
fn every_error_type_of_a_label_set_is_counted() {
    let meter = TestMeter::new();
    for round in 1..=3 {
        for (error, _) in SixErrors::ALL {
            fail_with(error).unwrap_err();
        }
        for (_, error_type) in SixErrors::ALL {
            assert_eq!(failures(&meter, "many", error_type), round, "{error_type}");
        }
    }
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &[("tool_name", "many")]),
        18
    );
}
