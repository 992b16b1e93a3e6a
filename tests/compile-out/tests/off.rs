//! Without the `instrument` feature of `mcp-gateway-metrics`: `#[timeout_op]` still enforces
//! its deadline (the same timeout, the same error), every other attribute returns the function
//! as written, nothing is recorded, kept or served, a `TestMeter` refuses to read zeros, and
//! arguments are still checked.

use std::time::Duration;

use compile_out::*;
use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{record, CacheType, Config, OperationType};

#[tokio::test]
async fn deadlines_are_enforced_and_nothing_is_recorded_or_served() {
    let guard = Config::builder()
        .prometheus_address("127.0.0.1:0")
        .operation_timeout(OperationType::Discovery, Duration::from_millis(20))
        .install()
        .unwrap();
    assert_eq!(guard.prometheus_address(), None, "nothing is served");

    // 50 ms of a 10 ms deadline: cut off, exactly as in the instrumented build.
    match call("github", "search", Duration::from_millis(50)).await {
        Err(GatewayError::Timeout(t)) => {
            assert_eq!(t.operation(), OperationType::ToolExecution);
            assert_eq!(t.after(), Duration::from_millis(10));
        }
        other => panic!("expected the deadline to cut the call off, got {other:?}"),
    }
    assert_eq!(
        call("github", "search", Duration::from_millis(1))
            .await
            .unwrap(),
        "github/search"
    );
    // The operator's timeout still applies.
    let cut = discover(Duration::from_millis(200)).await.unwrap_err();
    assert_eq!(cut.after(), Duration::from_millis(20));

    assert!(fail().is_err());
    assert!(check("github", "search").is_blocked());
    assert_eq!(lookup(true), Some(1));
    assert!(login(false).is_err());
    record::cache_hit(CacheType::Tools);
    let _session = record::session_started();

    assert!(mcp_gateway_metrics::read::snapshot().is_none());
    assert!(
        mcp_gateway_metrics::render().contains("instrumentation compiled out"),
        "{}",
        mcp_gateway_metrics::render()
    );
    assert_eq!(mcp_gateway_metrics::pending_before_init(), 0);
}

#[test]
#[should_panic(expected = "TestMeter needs the `instrument` feature")]
fn a_test_meter_refuses_to_read_zeros() {
    let _meter = TestMeter::new();
}

#[test]
fn arguments_are_still_checked() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
