//! Feature `otlp-tls`: OTLP/gRPC push to a TLS receiver whose certificate comes from a
//! private CA given with `otlp_certificate`.

use std::time::Duration;

use mcp_gateway_metrics::{record, CacheType, Config, OtlpProtocol};
use tests::otlp_receiver::{cache_hits, grpc, tls::TestPki};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_push_over_tls_trusts_the_configured_ca() {
    let pki = TestPki::new();
    let dir = tests::prometheus::TempDir::new("otlp-tls-grpc");
    let (addr, mut exports) = grpc::start_tls(&pki).await;
    let guard = Config::builder()
        .prometheus(false)
        .otlp(OtlpProtocol::Grpc)
        .otlp_endpoint(format!("https://localhost:{}", addr.port()))
        .otlp_certificate(pki.write_ca(&dir.0))
        .export_interval(Duration::from_millis(200))
        .install()
        .unwrap();
    for _ in 0..3 {
        record::cache_hit(CacheType::Tools);
    }
    let total = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(request) = exports.recv().await {
            let total = cache_hits(&request);
            if total == 3 {
                return total;
            }
        }
        0
    })
    .await;
    assert_eq!(total.ok(), Some(3), "3 cache hits arrive over TLS");
    // Dropped off the runtime's worker threads, as an application's main would.
    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .unwrap();
}
