//! Feature `otlp-tls`: OTLP/HTTP push to an `https://` receiver whose certificate comes from a
//! private CA, trusted through `OTEL_EXPORTER_OTLP_CERTIFICATE`, with gzip compression.

use std::time::Duration;

use mcp_gateway_metrics::{record, CacheType, Config, OtlpCompression, OtlpProtocol};
use tests::otlp_receiver::cache_hits;
use tests::otlp_receiver::tls::{HttpsReceiver, TestPki};
use tests::prometheus::TempDir;

#[test]
fn https_push_trusts_the_configured_ca_and_compresses_with_gzip() {
    let pki = TestPki::new();
    let dir = TempDir::new("otlp-tls");
    let ca = pki.write_ca(&dir.0);
    // The standard variable, as an operator would set it (this process's only test).
    std::env::set_var("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca);
    let receiver = HttpsReceiver::start(&pki);
    let guard = Config::builder()
        .service_name("tls-test")
        .prometheus(false)
        .otlp(OtlpProtocol::HttpProtobuf)
        .otlp_endpoint(receiver.url())
        .otlp_compression(OtlpCompression::Gzip)
        .export_interval(Duration::from_secs(3600))
        .install()
        .unwrap();
    assert_eq!(
        guard.otlp_endpoint(),
        Some(format!("{}/v1/metrics", receiver.url()).as_str())
    );

    record::cache_hit(CacheType::Tools);
    record::cache_hit(CacheType::Tools);
    guard.flush().unwrap();
    let exports = receiver
        .exports
        .wait_for(Duration::from_secs(20), |e| !e.is_empty());
    let export = exports.last().expect("an export arrived over TLS");
    assert_eq!(export.path, "/v1/metrics");
    assert_eq!(
        export.headers.get("content-encoding").map(String::as_str),
        Some("gzip")
    );
    assert_eq!(cache_hits(&export.request), 2);
    assert_eq!(
        receiver
            .failed_handshakes
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}
