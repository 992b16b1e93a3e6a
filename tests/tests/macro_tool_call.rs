//! `#[tool_call]`: every outcome, through the test meter.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{tool_call, RequestContext};
use tests::gateway_fixture::GatewayError;

#[tool_call]
fn call_sync(
    server_name: &str,
    tool_name: &str,
    fail: Option<GatewayError>,
) -> Result<u32, GatewayError> {
    match fail {
        Some(e) => Err(e),
        None => Ok(7),
    }
}

#[tool_call(server = "github", tool = "search")]
fn panics(crash: bool) -> u32 {
    if crash {
        panic!("the tool crashed");
    }
    1
}

#[tool_call(server = "slow", tool = "wait")]
async fn waits(how_long: Duration) -> Result<(), GatewayError> {
    tokio::time::sleep(how_long).await;
    Ok(())
}

struct Request {
    server: String,
    tool: String,
}

#[tool_call(server = req.server.as_str(), tool = req.tool.as_str(), project = "p-literal")]
async fn consumes(req: Request) -> Result<String, GatewayError> {
    let Request { server, tool } = req; // the body may move what the labels came from
    Ok(format!("{server}/{tool}"))
}

fn totals(meter: &TestMeter, server: &str) -> (u64, u64, u64, u64) {
    let s = [("server_name", server)];
    (
        meter.counter("enkrypt_tool_calls_total", &s),
        meter.counter("enkrypt_tool_call_success_total", &s),
        meter.counter("enkrypt_tool_call_failure_total", &s),
        meter.counter("enkrypt_tool_call_blocked_total", &s),
    )
}

#[test]
fn ok_err_and_blocked_results_are_classified_and_the_invariant_holds() {
    let meter = TestMeter::new();
    let _ctx = RequestContext::new("project-9").enter();
    assert_eq!(call_sync("github", "create_issue", None).unwrap(), 7);
    assert!(call_sync(
        "github",
        "create_issue",
        Some(GatewayError::UpstreamUnavailable)
    )
    .is_err());
    assert!(call_sync(
        "github",
        "create_issue",
        Some(GatewayError::InvalidArguments("x".into()))
    )
    .is_err());
    assert!(call_sync(
        "github",
        "create_issue",
        Some(GatewayError::InjectionAttack)
    )
    .is_err());

    let (calls, success, failure, blocked) = totals(&meter, "github");
    assert_eq!((calls, success, failure, blocked), (4, 1, 2, 1));
    assert_eq!(calls, success + failure + blocked);
    let labels = [
        ("server_name", "github"),
        ("tool_name", "create_issue"),
        ("project_id", "project-9"),
    ];
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &labels), 4);
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[("error_type", "upstream_unavailable")]
        ),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[("error_type", "bad_arguments")]
        ),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_blocked_total",
            &[("reason", "injection_attack")]
        ),
        1
    );
    // Handled errors are failures, not crashes.
    assert_eq!(meter.counter("enkrypt_tool_call_error_counter", &[]), 0);
    assert_eq!(
        meter
            .histogram(
                "enkrypt_tool_call_duration_seconds",
                &[("server_name", "github")]
            )
            .count,
        4
    );
}

#[test]
fn a_panic_is_a_failure_and_an_error_then_keeps_unwinding() {
    let meter = TestMeter::new();
    assert_eq!(panics(false), 1);
    let unwound = catch_unwind(AssertUnwindSafe(|| panics(true)));
    assert!(unwound.is_err(), "the panic continues");
    let (calls, success, failure, _) = totals(&meter, "github");
    assert_eq!((calls, success, failure), (2, 1, 1));
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[("error_type", "panic")]
        ),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_error_counter",
            &[("server_name", "github"), ("error_type", "panic")]
        ),
        1
    );
    // Without a request context the project is "unknown".
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &[("project_id", "unknown")]),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_future_is_a_cancelled_failure_and_durations_are_exact() {
    let meter = TestMeter::new();
    waits(Duration::from_millis(300)).await.unwrap();
    // Cancelled: polled until it waits, then dropped.
    let cancelled =
        tokio::time::timeout(Duration::from_millis(700), waits(Duration::from_secs(30))).await;
    assert!(cancelled.is_err());
    let (calls, success, failure, _) = totals(&meter, "slow");
    assert_eq!((calls, success, failure), (2, 1, 1));
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[("error_type", "cancelled")]
        ),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_error_counter",
            &[("error_type", "cancelled")]
        ),
        1
    );
    // The paused clock makes durations exact: 0.3 s and 0.7 s.
    let h = meter.histogram(
        "enkrypt_tool_call_duration_seconds",
        &[("server_name", "slow")],
    );
    assert_eq!(h.count, 2);
    assert!((h.sum - 1.0).abs() < 1e-9, "{}", h.sum);
    assert_eq!(h.bucket_counts, vec![0, 1, 1, 0, 0, 0, 0]);
}

#[tokio::test]
async fn label_expressions_are_evaluated_once_before_a_body_that_moves_them() {
    let meter = TestMeter::new();
    let req = Request {
        server: "jira".into(),
        tool: "create_ticket".into(),
    };
    assert_eq!(consumes(req).await.unwrap(), "jira/create_ticket");
    let labels = [
        ("server_name", "jira"),
        ("tool_name", "create_ticket"),
        ("project_id", "p-literal"),
    ];
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &labels), 1);
    assert_eq!(
        meter.counter("enkrypt_tool_call_success_total", &labels[..2]),
        1
    );
}

#[tokio::test]
async fn the_request_context_follows_the_future() {
    let meter = TestMeter::new();
    let result = RequestContext::new("from-context")
        .scope(async { waits(Duration::ZERO).await })
        .await;
    assert!(result.is_ok());
    assert_eq!(
        meter.counter(
            "enkrypt_tool_calls_total",
            &[("project_id", "from-context")]
        ),
        1
    );
}
