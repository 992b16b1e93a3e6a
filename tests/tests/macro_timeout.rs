//! `#[timeout_op]`: enforcement, escalation levels, outcomes, and composition with
//! `#[tool_call]` in either order. Time is paused, so every duration is exact.

use std::time::Duration;

use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{timeout_op, tool_call, OperationType, Timeout};
use tests::gateway_fixture::GatewayError;

#[timeout_op(operation = "guardrail", timeout = "100ms")]
async fn guarded(work: Duration) -> Result<&'static str, GatewayError> {
    tokio::time::sleep(work).await;
    Ok("done")
}

#[timeout_op(operation = discovery)] // a bare word works too; the configured timeout: 20 s
async fn discover(work: Duration) -> Result<(), Timeout> {
    tokio::time::sleep(work).await;
    Ok(())
}

#[tool_call(server = "slow", tool = "run")]
#[timeout_op(operation = "tool_execution", timeout = "1s")]
async fn call_then_timeout(work: Duration) -> Result<(), GatewayError> {
    tokio::time::sleep(work).await;
    Ok(())
}

#[timeout_op(operation = "tool_execution", timeout = "1s")]
#[tool_call(server = "slow", tool = "run_reversed")]
async fn timeout_then_call(work: Duration) -> Result<(), GatewayError> {
    tokio::time::sleep(work).await;
    Ok(())
}

#[timeout_op(operation = "cache", timeout = "10ms")]
fn observed(work: Duration) -> usize {
    std::thread::sleep(work);
    3
}

#[timeout_op(operation = "auth", timeout = "1s", enforce = false)]
async fn observed_async(work: Duration) -> u8 {
    tokio::time::sleep(work).await;
    1
}

fn op(meter: &TestMeter, metric: &str, op: &str) -> u64 {
    meter.counter(metric, &[("operation_type", op)])
}

#[tokio::test(start_paused = true)]
async fn in_time_warn_and_timed_out_operations_are_told_apart() {
    let meter = TestMeter::new();
    assert_eq!(guarded(Duration::from_millis(10)).await.unwrap(), "done"); // normal
    assert_eq!(guarded(Duration::from_millis(85)).await.unwrap(), "done"); // 85 %: warn
    let err = guarded(Duration::from_secs(5)).await.unwrap_err(); // cut off at 100 ms
    match err {
        GatewayError::Timeout(t) => {
            assert_eq!(t.operation(), OperationType::Guardrail);
            assert_eq!(t.after(), Duration::from_millis(100));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let g = "guardrail";
    assert_eq!(op(&meter, "enkrypt_timeout_operations_total", g), 3);
    assert_eq!(op(&meter, "enkrypt_timeout_operations_successful", g), 2);
    assert_eq!(op(&meter, "enkrypt_timeout_operations_timed_out", g), 1);
    assert_eq!(op(&meter, "enkrypt_timeout_operations_cancelled", g), 0);
    assert_eq!(op(&meter, "enkrypt_timeout_escalation_warn", g), 1);
    assert_eq!(op(&meter, "enkrypt_timeout_escalation_timeout", g), 1);
    assert_eq!(op(&meter, "enkrypt_timeout_escalation_fail", g), 0);
    let h = meter.histogram(
        "enkrypt_timeout_operation_duration_seconds",
        &[("operation_type", g)],
    );
    assert_eq!(h.count, 3);
    assert!(
        (h.sum - 0.195).abs() < 1e-9,
        "10 + 85 + 100 ms, got {}",
        h.sum
    );
    assert_eq!(meter.gauge("enkrypt_timeout_active_operations", &[]), 0);
}

#[tokio::test(start_paused = true)]
async fn the_default_timeout_comes_from_configuration() {
    let meter = TestMeter::with_config(
        mcp_gateway_metrics::Config::builder()
            .operation_timeout(OperationType::Discovery, Duration::from_millis(50)),
    )
    .unwrap();
    let err = discover(Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(err.after(), Duration::from_millis(50));
    assert_eq!(
        op(&meter, "enkrypt_timeout_operations_timed_out", "discovery"),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_operation_is_counted_and_gives_its_slot_back() {
    let meter = TestMeter::new();
    let cut =
        tokio::time::timeout(Duration::from_millis(30), guarded(Duration::from_secs(1))).await;
    assert!(cut.is_err(), "the caller gave up first");
    assert_eq!(
        op(&meter, "enkrypt_timeout_operations_cancelled", "guardrail"),
        1
    );
    assert_eq!(
        op(&meter, "enkrypt_timeout_operations_total", "guardrail"),
        1
    );
    assert_eq!(meter.gauge("enkrypt_timeout_active_operations", &[]), 0);
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_tool_call_is_a_timeout_failure_in_either_attribute_order() {
    let meter = TestMeter::new();
    assert!(call_then_timeout(Duration::from_secs(2)).await.is_err());
    assert!(timeout_then_call(Duration::from_secs(2)).await.is_err());
    assert!(call_then_timeout(Duration::from_millis(900)).await.is_ok()); // 90 %: warn, success
    for tool in ["run", "run_reversed"] {
        let t = [("tool_name", tool), ("error_type", "timeout")];
        assert_eq!(
            meter.counter("enkrypt_tool_call_failure_total", &t),
            1,
            "{tool}"
        );
        // A timeout is a handled failure, not a crash.
        assert_eq!(meter.counter("enkrypt_tool_call_error_counter", &[]), 0);
    }
    let exec = "tool_execution";
    assert_eq!(op(&meter, "enkrypt_timeout_operations_timed_out", exec), 2);
    assert_eq!(op(&meter, "enkrypt_timeout_operations_successful", exec), 1);
    assert_eq!(op(&meter, "enkrypt_timeout_escalation_warn", exec), 1);
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &[]), 3);
    assert_eq!(meter.counter("enkrypt_tool_call_success_total", &[]), 1);
    // Both the call and the operation last exactly until the deadline.
    let h = meter.histogram(
        "enkrypt_tool_call_duration_seconds",
        &[("tool_name", "run")],
    );
    assert!((h.sum - 1.9).abs() < 1e-9, "{}", h.sum);
    assert_eq!(meter.gauge("enkrypt_timeout_active_operations", &[]), 0);
}

#[test]
fn a_synchronous_operation_is_observed_and_an_overrun_escalates_to_fail() {
    let meter = TestMeter::new();
    // thread::sleep sleeps at least this long: 30 ms of a 10 ms timeout is at least 300 %.
    assert_eq!(observed(Duration::from_millis(30)), 3);
    assert_eq!(
        op(&meter, "enkrypt_timeout_operations_timed_out", "cache"),
        1
    );
    assert_eq!(op(&meter, "enkrypt_timeout_escalation_fail", "cache"), 1);
    assert_eq!(
        op(&meter, "enkrypt_timeout_operations_successful", "cache"),
        0
    );
}

#[tokio::test(start_paused = true)]
async fn enforce_false_observes_an_async_operation_without_cutting_it() {
    let meter = TestMeter::new();
    assert_eq!(observed_async(Duration::from_millis(1500)).await, 1);
    assert_eq!(
        op(&meter, "enkrypt_timeout_operations_timed_out", "auth"),
        1
    );
    assert_eq!(op(&meter, "enkrypt_timeout_escalation_fail", "auth"), 1);
}

#[tool_call(server = "crashy", tool = "boom")]
#[timeout_op(operation = "tool_execution", timeout = "1s")]
async fn crashes_inside_a_deadline() -> Result<(), GatewayError> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    panic!("the upstream client crashed")
}

#[tokio::test(start_paused = true)]
async fn a_panic_under_a_deadline_is_a_crash_and_leaves_no_active_operation() {
    let meter = TestMeter::new();
    let task = meter.scope(crashes_inside_a_deadline());
    let unwound = futures_catch_unwind(task).await;
    assert!(unwound.is_err());
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_error_counter",
            &[("error_type", "panic")]
        ),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[("error_type", "panic")]
        ),
        1
    );
    assert_eq!(
        op(
            &meter,
            "enkrypt_timeout_operations_cancelled",
            "tool_execution"
        ),
        1
    );
    assert_eq!(meter.gauge("enkrypt_timeout_active_operations", &[]), 0);
}

/// Polls a future inside `catch_unwind`, as a task runtime does.
async fn futures_catch_unwind<F: std::future::Future>(future: F) -> std::thread::Result<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Err(panic) => std::task::Poll::Ready(Err(panic)),
        }
    })
    .await
}

#[timeout_op(operation = "discovery", timeout = "10ms")]
async fn hogs_its_thread() -> Result<(), Timeout> {
    // Blocks the thread past the deadline, as a loaded machine would delay the timer.
    std::thread::sleep(Duration::from_millis(40));
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

#[tokio::test]
async fn a_deadline_that_fires_late_is_still_the_timeout_level() {
    let meter = TestMeter::new();
    assert!(hogs_its_thread().await.is_err(), "cut off by its deadline");
    let d = "discovery";
    assert_eq!(op(&meter, "enkrypt_timeout_operations_timed_out", d), 1);
    assert_eq!(op(&meter, "enkrypt_timeout_escalation_timeout", d), 1);
    assert_eq!(
        op(&meter, "enkrypt_timeout_escalation_fail", d),
        0,
        "400 % late, not a failure"
    );
}

#[test]
fn a_cancelled_operation_reaches_no_escalation_level() {
    use mcp_gateway_metrics::record::{timeout_operation, Escalation, TimeoutOutcome};
    let meter = TestMeter::new();
    let limit = Duration::from_millis(100);
    for elapsed in [95, 110, 200] {
        let level = timeout_operation(
            OperationType::Auth,
            limit,
            Duration::from_millis(elapsed),
            TimeoutOutcome::Cancelled,
        );
        assert_eq!(level, Escalation::Normal, "{elapsed} ms");
    }
    let a = "auth";
    assert_eq!(op(&meter, "enkrypt_timeout_operations_cancelled", a), 3);
    for level in ["warn", "timeout", "fail"] {
        let name = format!("enkrypt_timeout_escalation_{level}");
        assert_eq!(op(&meter, &name, a), 0, "{level}");
    }
    // An operation that finished by itself keeps the ratio rule, overruns included.
    let level = timeout_operation(
        OperationType::Auth,
        limit,
        Duration::from_millis(130),
        TimeoutOutcome::Completed,
    );
    assert_eq!(level, Escalation::Fail);
}
