//! Feature `otlp-tls`: a receiver whose certificate no trusted CA signed gets no data, and the
//! failure is visible: the flush fails, and the export error is a `tracing` event.

use std::time::Duration;

use mcp_gateway_metrics::{record, CacheType, Config, OtlpProtocol};
use tests::otlp_receiver::tls::{HttpsReceiver, TestPki};
use tests::tracing_capture::Captured;

#[test]
fn an_untrusted_certificate_is_refused() {
    let captured = Captured::default();
    tracing::subscriber::set_global_default(captured.subscriber()).unwrap();
    let pki = TestPki::new();
    let receiver = HttpsReceiver::start(&pki);
    // The CA of another PKI: the receiver's certificate does not chain to it.
    let other = TestPki::new();
    let dir = tests::prometheus::TempDir::new("otlp-tls-untrusted");
    let guard = Config::builder()
        .prometheus(false)
        .otlp(OtlpProtocol::HttpProtobuf)
        .otlp_endpoint(receiver.url())
        .otlp_certificate(other.write_ca(&dir.0))
        .otlp_timeout(Duration::from_secs(5))
        .export_interval(Duration::from_secs(3600))
        .install()
        .unwrap();
    record::cache_hit(CacheType::Tools);
    let error = guard.flush().expect_err("the export cannot succeed");
    assert!(!error.is_empty());
    assert!(receiver
        .exports
        .wait_for(Duration::from_millis(200), |e| !e.is_empty())
        .is_empty());
    assert!(
        receiver
            .failed_handshakes
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1,
        "the client refused the handshake"
    );
    let errors: Vec<_> = captured
        .events()
        .into_iter()
        .filter(|e| e.level == tracing::Level::ERROR && e.name == "PeriodicReader.ExportError")
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", captured.events());
    assert!(
        errors[0].fields.get("error").is_some_and(|e| !e.is_empty()),
        "{errors:?}"
    );
}
