//! With `mcp-gateway-metrics/off`, the attributes return the functions unchanged (no deadline is
//! enforced, nothing is recorded), the typed API is a no-op, and arguments are still checked.

use std::time::Duration;

use compile_out::*;
use mcp_gateway_metrics::record;
use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::CacheType;

#[tokio::test]
async fn nothing_is_recorded_and_no_deadline_is_enforced() {
    let meter = TestMeter::new();
    // 50 ms of a 10 ms timeout: compiled out, the function runs to the end.
    assert_eq!(
        call("github", "search", Duration::from_millis(50))
            .await
            .unwrap(),
        "github/search"
    );
    assert!(fail().is_err());
    assert!(check("github", "search").is_blocked());
    assert_eq!(lookup(true), Some(1));
    assert!(login(false).is_err());
    record::cache_hit(CacheType::Tools);
    let _session = record::session_started();

    for name in [
        "enkrypt_tool_calls_total",
        "enkrypt_tool_call_failure_total",
        "enkrypt_timeout_operations_total",
        "enkrypt_api_requests_total",
        "enkrypt_tool_call_blocked_total",
        "enkrypt_cache_hits_total",
        "enkrypt_auth_failure_total",
    ] {
        assert_eq!(meter.counter(name, &[]), 0, "{name}");
        // Only the series that exist from startup (fixed label values, at 0).
        assert!(
            meter.series(name).iter().all(|s| s.value == 0.0),
            "{name} recorded"
        );
    }
    assert_eq!(meter.gauge("enkrypt_active_sessions", &[]), 0);
    assert_eq!(mcp_gateway_metrics::pending_before_init(), 0);
}

#[test]
fn arguments_are_still_checked() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
