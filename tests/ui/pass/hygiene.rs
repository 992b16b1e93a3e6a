//! The expansions name everything by absolute path and keep their locals to themselves: no
//! prelude, a local module named like the runtime, a `Result` alias and an `Option` type of
//! the user's own, and user locals, parameters and labels named like the generated ones.

#![no_implicit_prelude]
#![deny(warnings)]

/// Not the runtime: the expansions reach the real one as `::mcp_gateway_metrics`.
#[allow(dead_code)]
mod mcp_gateway_metrics {}

/// Not the runtime's private module either.
#[allow(dead_code)]
mod __private {}

use ::mcp_gateway_metrics::testing::TestMeter;
use ::mcp_gateway_metrics::{guardrail_check, timeout_op, tool_call, GuardrailVerdict, Timeout};
use ::std::convert::From;
use ::std::result::Result::{Err, Ok};

type Result<T> = ::std::result::Result<T, Timeout>;

/// A type of the user's named like one the expansions use.
#[allow(dead_code)]
struct Option;

#[tool_call(server = "s", tool = "shadowing")]
#[timeout_op(operation = tool_execution, timeout = "5s")]
async fn shadowing(__mr_call: u32, __mr_result: u32) -> Result<u32> {
    let __mr_value = __mr_call + __mr_result;
    let __mr_op = 1;
    Ok(__mr_value + __mr_op)
}

#[tool_call(server = "s", tool = "labels")]
#[track_caller]
fn labels(__mr_classified: u32) -> Result<u32> {
    let found = '__mr_body: {
        if __mr_classified > 1 {
            break '__mr_body __mr_classified;
        }
        0
    };
    if found == 0 {
        return Err(Timeout::from(::mcp_gateway_metrics::Timeout::new(
            ::mcp_gateway_metrics::OperationType::Default,
            ::std::time::Duration::ZERO,
        )));
    }
    Ok(found)
}

#[guardrail_check(direction = input, endpoint = "/guardrails/policy/detect")]
fn checked(server_name: &str, tool_name: &str, __mr_guardrail: bool) -> GuardrailVerdict {
    let _ = (server_name, tool_name);
    if __mr_guardrail {
        <GuardrailVerdict as ::std::default::Default>::default().violation("pii", "pii_detector")
    } else {
        <GuardrailVerdict as ::std::default::Default>::default()
    }
}

fn main() {
    let meter = TestMeter::new();
    let runtime = ::tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    ::std::assert_eq!(runtime.block_on(shadowing(1, 2)), Ok(4));
    ::std::assert_eq!(labels(5), Ok(5));
    ::std::assert!(labels(0).is_err());
    checked("github", "search", true);
    ::std::assert_eq!(meter.counter("enkrypt_tool_calls_total", &[]), 3);
    ::std::assert_eq!(meter.counter("enkrypt_tool_call_failure_total", &[("error_type", "timeout")]), 1);
    ::std::assert_eq!(
        meter.counter("enkrypt_input_guardrail_violations_total", &[("violation_type", "pii")]),
        1
    );
}
