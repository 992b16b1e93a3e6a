//! The process-wide pipeline, from before `init()` to after its guard is dropped.
//!
//! One test function: the global pipeline can be installed once per process, so the steps
//! run in order in this file's own test binary.

use std::net::TcpListener;

use mcp_gateway_metrics::{record, CacheType, Config, InitError, CONTENT_TYPE};
use tests::exposition::parse;

#[test]
fn recordings_before_init_are_replayed_the_endpoint_serves_and_shutdown_closes_it() {
    // 1. Before init: kept, not lost.
    record::cache_hit(CacheType::Tools);
    record::cache_hit(CacheType::Tools);
    let session = record::session_started();
    assert_eq!(mcp_gateway_metrics::pending_before_init(), 3);
    assert!(mcp_gateway_metrics::render().contains("not initialised"));

    // 2. A port in use is an error that names the setting and the address, and installs
    //    nothing.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let err = Config::builder()
        .prometheus_address(address.as_str())
        .install()
        .unwrap_err();
    assert!(matches!(err, InitError::PrometheusListen { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("prometheus_address"), "{message}");
    assert!(message.contains(&address), "{message}");
    assert_eq!(mcp_gateway_metrics::pending_before_init(), 3);

    // 3. Install on a free port: the kept measurements arrive.
    let guard = Config::builder()
        .service_name("lifecycle-test")
        .service_version("9.9.9")
        .prometheus_address("127.0.0.1:0")
        .install()
        .unwrap();
    assert_eq!(mcp_gateway_metrics::pending_before_init(), 0);
    let addr = guard.prometheus_address().expect("served");
    assert!(addr.ip().is_loopback());

    // A second init is refused, clearly.
    let again = mcp_gateway_metrics::init().unwrap_err();
    assert!(matches!(again, InitError::AlreadyInitialized), "{again:?}");

    // 4. /metrics over real HTTP.
    let url = format!("http://{addr}/metrics");
    let response = reqwest::blocking::get(&url).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], CONTENT_TYPE);
    let families = parse(&response.text().unwrap()).unwrap();
    let hits = &families["enkrypt_cache_hits_total"];
    assert_eq!(
        hits.value("enkrypt_cache_hits_total", &[("cache_type", "tools")]),
        2.0
    );
    assert_eq!(
        families["enkrypt_active_sessions"].value("enkrypt_active_sessions", &[]),
        1.0
    );
    let target = &families["target_info"];
    assert_eq!(
        target.value("target_info", &[("service_name", "lifecycle-test")]),
        1.0
    );
    assert_eq!(
        target.value("target_info", &[("service_version", "9.9.9")]),
        1.0
    );
    let instance = target.samples[0]
        .1
        .get("service_instance_id")
        .cloned()
        .unwrap();
    assert_eq!(instance.len(), 36, "a UUID: {instance}");

    // The session that started before init ends after it: back to 0, never -1.
    drop(session);
    let text = reqwest::blocking::get(&url).unwrap().text().unwrap();
    assert!(text.contains("enkrypt_active_sessions 0"), "{text}");

    let missing = reqwest::blocking::get(format!("http://{addr}/nope")).unwrap();
    assert_eq!(missing.status(), 404);

    // 5. Dropping the guard stops the endpoint.
    drop(guard);
    assert!(
        reqwest::blocking::get(&url).is_err(),
        "the endpoint still answers"
    );
}
