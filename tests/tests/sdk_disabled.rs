//! `OTEL_SDK_DISABLED=true` (here through the builder): nothing is served, kept or recorded.

use mcp_gateway_metrics::{record, CacheType, Config};

#[test]
fn a_disabled_sdk_serves_nothing_and_keeps_nothing() {
    let before = mcp_gateway_metrics::pending_before_init();
    let guard = Config::builder()
        .disabled(true)
        .prometheus_address("127.0.0.1:0")
        .install()
        .unwrap();
    assert_eq!(guard.prometheus_address(), None, "no endpoint is served");
    for _ in 0..10 {
        record::cache_hit(CacheType::Tools);
    }
    assert_eq!(mcp_gateway_metrics::pending_before_init(), before);
    let text = mcp_gateway_metrics::render();
    assert_eq!(
        text,
        "# mcp-gateway-metrics: disabled (OTEL_SDK_DISABLED)\n"
    );
    guard.flush().unwrap();
}
