//! OTLP/gRPC push works from inside a tokio application, and dropping the guard on a runtime
//! thread neither hangs nor loses the last measurements.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mcp_gateway_metrics::{record, CacheType, Config, OtlpProtocol};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use tests::otlp_receiver::grpc;
use tokio::sync::mpsc::UnboundedReceiver;

/// The cumulative total of enkrypt_cache_hits_total over all cache types in one export.
fn hits(request: &ExportMetricsServiceRequest) -> Option<i64> {
    let mut total = None;
    for metric in request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .filter(|m| m.name == "enkrypt_cache_hits_total")
    {
        if let Some(Data::Sum(sum)) = &metric.data {
            assert_eq!(
                sum.aggregation_temporality,
                AggregationTemporality::Cumulative as i32
            );
            for dp in &sum.data_points {
                if let Some(Value::AsInt(v)) = dp.value {
                    *total.get_or_insert(0) += v;
                }
            }
        }
    }
    total
}

async fn wait_for_total(rx: &mut UnboundedReceiver<ExportMetricsServiceRequest>, want: i64) {
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(request) = rx.recv().await {
            if hits(&request) == Some(want) {
                return;
            }
        }
    })
    .await;
    assert!(found.is_ok(), "no export with {want} cache hits arrived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_push_delivers_from_a_tokio_app_and_the_guard_drops_cleanly_on_a_runtime_thread() {
    let (addr, mut exports) = grpc::start().await;
    let guard = Config::builder()
        .service_name("grpc-test")
        .prometheus(false)
        .otlp(OtlpProtocol::Grpc)
        .otlp_endpoint(format!("http://{addr}"))
        .export_interval(Duration::from_millis(200))
        .install()
        .unwrap();

    for _ in 0..3 {
        record::cache_hit(CacheType::Tools);
    }
    wait_for_total(&mut exports, 3).await;

    record::cache_hit(CacheType::GatewayConfig);
    // Dropped on a runtime worker thread: it must return (a watchdog fails the test
    // otherwise), and the shutdown export still goes out.
    let dropped = Arc::new(AtomicBool::new(false));
    std::thread::spawn({
        let dropped = Arc::clone(&dropped);
        move || {
            std::thread::sleep(Duration::from_secs(30));
            if !dropped.load(Ordering::SeqCst) {
                eprintln!("dropping the MetricsGuard on a tokio worker thread hung");
                std::process::abort();
            }
        }
    });
    drop(guard);
    dropped.store(true, Ordering::SeqCst);
    wait_for_total(&mut exports, 4).await;
}
