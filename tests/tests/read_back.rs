//! Typed read-back: `read::snapshot()` (the live pipeline, through its Prometheus registry)
//! agrees with the OpenTelemetry reader of a test meter on every metric of the catalog.

use std::time::Duration;

use mcp_gateway_metrics::catalog::{Metric, MetricKind};
use mcp_gateway_metrics::read::{self, HistogramSnapshot};
use mcp_gateway_metrics::record::{self, Outcome, ToolCallLabels};
use mcp_gateway_metrics::testing::{record_every_family, TestMeter};

#[test]
fn the_live_snapshot_equals_the_readers_on_every_metric() {
    let meter = TestMeter::new();
    record_every_family();
    let _session = record::session_started();
    let live = read::snapshot().expect("the test meter's Prometheus exporter is on");
    let reader = meter.snapshot();
    let mut checked = 0;
    for &metric in Metric::ALL {
        let (a, b) = (live.series(metric), reader.series(metric));
        assert_eq!(a.len(), b.len(), "{}", metric.name());
        match metric.def().kind {
            MetricKind::Counter => {
                assert_eq!(live.counter(metric, &[]), reader.counter(metric, &[]))
            }
            MetricKind::UpDownCounter => {
                assert_eq!(live.gauge(metric, &[]), reader.gauge(metric, &[]))
            }
            MetricKind::Histogram => {
                let (x, y) = (live.histogram(metric, &[]), reader.histogram(metric, &[]));
                assert_eq!(x.count, y.count, "{}", metric.name());
                assert_eq!(x.bounds, y.bounds, "{}", metric.name());
                assert_eq!(x.bucket_counts, y.bucket_counts, "{}", metric.name());
                assert!((x.sum - y.sum).abs() < 1e-9, "{}", metric.name());
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 32);
    assert_eq!(live.gauge(Metric::ActiveSessions, &[]), 1);
    assert_eq!(
        live.counter(Metric::ToolCalls, &[("server_name", "github")]),
        4
    );
}

#[test]
fn quantiles_interpolate_within_the_bucket_as_prometheus_does() {
    let meter = TestMeter::new();
    let labels = ToolCallLabels {
        server_name: "s",
        tool_name: "t",
        project_id: "p",
    };
    // Buckets 0.1, 0.5, 1, 2, 5, 10: 60 calls in (0.1, 0.5], 40 in (1, 2].
    for _ in 0..60 {
        record::tool_call(&labels, Outcome::Success, Duration::from_millis(300));
    }
    for _ in 0..40 {
        record::tool_call(&labels, Outcome::Success, Duration::from_millis(1500));
    }
    let h = meter
        .snapshot()
        .histogram(Metric::ToolCallDuration, &[("server_name", "s")]);
    assert_eq!(h.count, 100);
    let p50 = h.quantile(0.5).unwrap();
    assert!((p50 - (0.1 + 0.4 * 50.0 / 60.0)).abs() < 1e-9, "{p50}");
    let p95 = h.quantile(0.95).unwrap();
    assert!((p95 - (1.0 + 1.0 * 35.0 / 40.0)).abs() < 1e-9, "{p95}");
    assert_eq!(HistogramSnapshot::default().quantile(0.5), None);
}
