//! The installed provider is part of the application's OpenTelemetry: it is the global meter
//! provider, so the application's own instruments appear on the same `/metrics`, and a reader
//! of the application's sees exactly what `/metrics` shows, with the same resource. The
//! application's views shape its own instruments and cannot touch the catalog.
//!
//! This binary's tests crate compiles the OTLP features in without choosing OTLP push: the
//! install says so through `tracing`.

use std::time::Duration;

use mcp_gateway_metrics::opentelemetry::{global, Key, KeyValue};
use mcp_gateway_metrics::opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use mcp_gateway_metrics::opentelemetry_sdk::metrics::{
    Aggregation, InMemoryMetricExporter, Instrument, PeriodicReader, Stream,
};
use mcp_gateway_metrics::record::{self, Outcome, ToolCallLabels};
use mcp_gateway_metrics::Config;
use tests::tracing_capture::Captured;

/// The value of a `u64` sum in the reader's last export, summed over its data points.
fn exported_sum(exporter: &InMemoryMetricExporter, name: &str) -> Option<u64> {
    let exports = exporter.get_finished_metrics().unwrap();
    let last = exports.last()?;
    let sum = last
        .scope_metrics()
        .flat_map(|s| s.metrics())
        .find(|m| m.name() == name)
        .map(|m| match m.data() {
            AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                sum.data_points().map(|dp| dp.value()).sum()
            }
            other => panic!("{name} is not a u64 sum: {other:?}"),
        });
    sum
}

#[mcp_gateway_metrics::tool_call]
fn annotated(server_name: &str, tool_name: &str) -> Result<(), std::io::Error> {
    Ok(())
}

#[test]
fn the_global_meter_and_a_users_reader_share_the_pipeline_and_its_resource() {
    let captured = Captured::default();
    tracing::subscriber::set_global_default(captured.subscriber()).unwrap();
    let exporter = InMemoryMetricExporter::default();
    let reader = PeriodicReader::builder(exporter.clone())
        .with_interval(Duration::from_secs(3600))
        .build();
    let guard = Config::builder()
        .service_name("open-pipeline")
        .service_instance_id("replica-7")
        .prometheus_address("127.0.0.1:0")
        .with_reader(reader)
        .with_view(|i: &Instrument| {
            (i.name() == "app_latency_seconds").then(|| {
                Stream::builder()
                    .with_aggregation(Aggregation::ExplicitBucketHistogram {
                        boundaries: vec![0.5, 1.0],
                        record_min_max: false,
                    })
                    .build()
                    .unwrap()
            })
        })
        // A view naming a catalog instrument does not apply to it.
        .with_view(|i: &Instrument| {
            (i.name() == "enkrypt_tool_calls_total").then(|| {
                Stream::builder()
                    .with_name("renamed_calls")
                    .build()
                    .unwrap()
            })
        })
        // A view dropping every instrument it is given (the application's only) leaves the
        // catalog, and the way its calls reach the SDK, as they were.
        .with_view(|i: &Instrument| {
            (!i.name().starts_with("app_")).then(|| {
                Stream::builder()
                    .with_aggregation(Aggregation::Drop)
                    .build()
                    .unwrap()
            })
        })
        .install()
        .unwrap();

    let warnings: Vec<_> = captured
        .events()
        .into_iter()
        .filter(|e| e.level == tracing::Level::WARN && e.target == "mcp_gateway_metrics")
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].message.contains("OTLP push is off")
            && warnings[0].message.contains("OTEL_METRICS_EXPORTER=otlp"),
        "{warnings:?}"
    );

    let meter = global::meter("my-app");
    let requests = meter.u64_counter("app_requests_total").build();
    requests.add(3, &[KeyValue::new("route", "/search")]);
    meter
        .f64_histogram("app_latency_seconds")
        .build()
        .record(0.7, &[]);
    let labels = ToolCallLabels {
        server_name: "github",
        tool_name: "search",
        project_id: "p1",
    };
    record::tool_call(&labels, Outcome::Success, Duration::from_millis(100));
    // `#[tool_call]` on the global pipeline: kept in this thread's batch until a collection.
    for _ in 0..3 {
        annotated("github", "create_issue").unwrap();
    }

    let address = guard.prometheus_address().unwrap();
    let text = reqwest::blocking::get(format!("http://{address}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    for line in [
        r#"app_requests_total{route="/search"} 3"#,
        r#"app_latency_seconds_bucket{le="0.5"} 0"#,
        r#"app_latency_seconds_bucket{le="1"} 1"#,
        r#"enkrypt_tool_calls_total{project_id="p1",server_name="github",tool_name="search"} 1"#,
        r#"enkrypt_tool_calls_total{project_id="unknown",server_name="github",tool_name="create_issue"} 3"#,
        r#"enkrypt_tool_call_success_total{server_name="github",tool_name="create_issue"} 3"#,
        r#"enkrypt_tool_call_duration_seconds_count{server_name="github",tool_name="create_issue"} 3"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
    assert!(!text.contains("renamed_calls"), "{text}");
    let target_info = text
        .lines()
        .find(|l| l.starts_with("target_info{"))
        .expect("the resource is exposed once");
    assert!(
        target_info.contains(r#"service_instance_id="replica-7""#),
        "{target_info}"
    );

    guard.flush().unwrap();
    assert_eq!(exported_sum(&exporter, "app_requests_total"), Some(3));
    // The application's reader collects on its own: it sees the annotated calls too.
    assert_eq!(exported_sum(&exporter, "enkrypt_tool_calls_total"), Some(4));
    assert_eq!(exported_sum(&exporter, "renamed_calls"), None);
    let exports = exporter.get_finished_metrics().unwrap();
    let resource = exports.last().unwrap().resource();
    assert_eq!(
        resource
            .get(&Key::new("service.instance.id"))
            .map(|v| v.to_string()),
        Some("replica-7".to_string())
    );
    assert_eq!(
        resource
            .get(&Key::new("service.name"))
            .map(|v| v.to_string()),
        Some("open-pipeline".to_string())
    );
}
