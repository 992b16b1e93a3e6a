//! In-flight gauges go back down however the work ends, panics included.

use std::panic::{catch_unwind, AssertUnwindSafe};

use mcp_gateway_metrics::record::{self, TimeoutOperation};
use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::OperationType;

#[test]
fn a_session_guard_dropped_during_a_panic_still_decrements_the_gauge() {
    let meter = TestMeter::new();
    let _outer = record::session_started();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _session = record::session_started();
        let _user = record::user_active();
        assert_eq!(meter.gauge("enkrypt_active_sessions", &[]), 2);
        assert_eq!(meter.gauge("enkrypt_active_users", &[]), 1);
        panic!("the session's handler crashed");
    }));
    assert!(result.is_err());
    assert_eq!(meter.gauge("enkrypt_active_sessions", &[]), 1);
    assert_eq!(meter.gauge("enkrypt_active_users", &[]), 0);
}

#[test]
fn a_timeout_operation_unwound_by_a_panic_counts_as_cancelled_and_leaves_no_active_operation() {
    let meter = TestMeter::new();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _op = TimeoutOperation::start(OperationType::ToolExecution, None);
        assert_eq!(meter.gauge("enkrypt_timeout_active_operations", &[]), 1);
        panic!("the upstream call crashed");
    }));
    assert!(result.is_err());
    let tool = [("operation_type", "tool_execution")];
    assert_eq!(meter.gauge("enkrypt_timeout_active_operations", &[]), 0);
    assert_eq!(meter.counter("enkrypt_timeout_operations_total", &tool), 1);
    assert_eq!(
        meter.counter("enkrypt_timeout_operations_cancelled", &tool),
        1
    );
    assert_eq!(
        meter.counter("enkrypt_timeout_operations_successful", &tool),
        0
    );
    assert_eq!(
        meter
            .histogram("enkrypt_timeout_operation_duration_seconds", &tool)
            .count,
        1
    );
}

#[test]
fn test_meters_on_different_threads_do_not_see_each_other() {
    let meter = TestMeter::new();
    let _here = record::session_started();
    std::thread::spawn(|| {
        let other = TestMeter::new();
        let _there = record::session_started();
        let _also = record::session_started();
        assert_eq!(other.gauge("enkrypt_active_sessions", &[]), 2);
    })
    .join()
    .unwrap();
    assert_eq!(meter.gauge("enkrypt_active_sessions", &[]), 1);
}
