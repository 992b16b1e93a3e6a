//! Typed reads of recorded values: what an application needs to report on itself (an SLI
//! summary, a status tool) without parsing its own exposition text, and what
//! [`crate::testing::TestMeter`] returns.
//!
//! ```
//! use std::time::Duration;
//! use mcp_gateway_metrics::catalog::Metric;
//! use mcp_gateway_metrics::record::{self, Outcome, ToolCallLabels};
//!
//! let _metrics = mcp_gateway_metrics::Config::builder().serve_prometheus(false).install()?;
//! let labels = ToolCallLabels { server_name: "github", tool_name: "search", project_id: "p1" };
//! record::tool_call(&labels, Outcome::Success, Duration::from_millis(300));
//!
//! let now = mcp_gateway_metrics::read::snapshot().expect("the Prometheus exporter is on");
//! assert_eq!(now.counter(Metric::ToolCalls, &[("server_name", "github")]), 1);
//! assert_eq!(now.histogram(Metric::ToolCallDuration, &[]).count, 1);
//! # Ok::<(), mcp_gateway_metrics::InitError>(())
//! ```

use crate::catalog::{Metric, MetricKind};

/// One series of a metric: its labels and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Label key/value pairs, sorted by key.
    pub labels: Vec<(String, String)>,
    /// The value (a counter's total, a gauge's level, a histogram's count).
    pub value: f64,
}

/// A histogram's state, summed over the series that match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistogramSnapshot {
    /// How many values were recorded.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// The explicit bucket boundaries (without +Inf).
    pub bounds: Vec<f64>,
    /// Per-bucket (not cumulative) counts; one more than `bounds`, the last for +Inf.
    pub bucket_counts: Vec<u64>,
}

impl HistogramSnapshot {
    /// The `q` quantile (0 to 1) estimated as Prometheus' `histogram_quantile` does: linear
    /// within the bucket that holds it; the highest finite bound when it falls in +Inf.
    /// `None` when nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * self.count as f64;
        let mut below = 0u64;
        for (i, &n) in self.bucket_counts.iter().enumerate() {
            if (below + n) as f64 >= rank && n > 0 {
                let Some(&upper) = self.bounds.get(i) else {
                    return self.bounds.last().copied();
                };
                let lower = if i == 0 { 0.0 } else { self.bounds[i - 1] };
                return Some(lower + (upper - lower) * (rank - below as f64) / n as f64);
            }
            below += n;
        }
        self.bounds.last().copied()
    }

    fn add(&mut self, count: u64, sum: f64, bounds: Vec<f64>, bucket_counts: Vec<u64>) {
        self.count += count;
        self.sum += sum;
        if self.bucket_counts.len() != bucket_counts.len() {
            self.bucket_counts = vec![0; bucket_counts.len()];
        }
        for (total, c) in self.bucket_counts.iter_mut().zip(bucket_counts) {
            *total += c;
        }
        self.bounds = bounds;
    }
}

#[derive(Debug, Clone)]
enum Value {
    Number(f64),
    Histogram(HistogramSnapshot),
}

#[derive(Debug, Clone)]
struct Point {
    metric: Metric,
    labels: Vec<(String, String)>,
    value: Value,
}

/// The values of the catalog's metrics at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    points: Vec<Point>,
}

impl Snapshot {
    /// A counter summed over the series whose labels include all of `labels` (0 when none
    /// match, or when `metric` is not a counter).
    pub fn counter(&self, metric: Metric, labels: &[(&str, &str)]) -> u64 {
        self.numbers(metric, MetricKind::Counter, labels) as u64
    }

    /// A gauge (up-down counter) summed over the matching series.
    pub fn gauge(&self, metric: Metric, labels: &[(&str, &str)]) -> i64 {
        self.numbers(metric, MetricKind::UpDownCounter, labels) as i64
    }

    /// A histogram summed over the matching series.
    pub fn histogram(&self, metric: Metric, labels: &[(&str, &str)]) -> HistogramSnapshot {
        let mut out = HistogramSnapshot::default();
        for p in self.matching(metric, labels) {
            if let Value::Histogram(h) = &p.value {
                out.add(h.count, h.sum, h.bounds.clone(), h.bucket_counts.clone());
            }
        }
        out
    }

    /// Every series of a metric, with its labels (a histogram's value is its count).
    pub fn series(&self, metric: Metric) -> Vec<Series> {
        self.matching(metric, &[])
            .map(|p| Series {
                labels: p.labels.clone(),
                value: match &p.value {
                    Value::Number(v) => *v,
                    Value::Histogram(h) => h.count as f64,
                },
            })
            .collect()
    }

    fn numbers(&self, metric: Metric, kind: MetricKind, labels: &[(&str, &str)]) -> f64 {
        if metric.def().kind != kind {
            return 0.0;
        }
        self.matching(metric, labels)
            .filter_map(|p| match p.value {
                Value::Number(v) => Some(v),
                Value::Histogram(_) => None,
            })
            .sum()
    }

    fn matching<'a>(
        &'a self,
        metric: Metric,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a Point> + 'a {
        self.points.iter().filter(move |p| {
            p.metric == metric
                && labels
                    .iter()
                    .all(|(k, v)| p.labels.iter().any(|(pk, pv)| pk == k && pv == v))
        })
    }

    fn push(&mut self, metric: Metric, mut labels: Vec<(String, String)>, value: Value) {
        labels.sort();
        self.points.push(Point {
            metric,
            labels,
            value,
        });
    }

    /// From what an OpenTelemetry reader collected.
    pub(crate) fn from_resource_metrics(
        rm: &opentelemetry_sdk::metrics::data::ResourceMetrics,
    ) -> Snapshot {
        use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
        let mut out = Snapshot::default();
        let labels = |attrs: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
            attrs
                .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                .collect::<Vec<_>>()
        };
        for m in rm.scope_metrics().flat_map(|s| s.metrics()) {
            let Some(metric) = Metric::from_name(m.name()) else {
                continue;
            };
            match m.data() {
                AggregatedMetrics::U64(MetricData::Sum(s)) => {
                    for dp in s.data_points() {
                        let l = labels(&mut dp.attributes());
                        out.push(metric, l, Value::Number(dp.value() as f64));
                    }
                }
                AggregatedMetrics::I64(MetricData::Sum(s)) => {
                    for dp in s.data_points() {
                        let l = labels(&mut dp.attributes());
                        out.push(metric, l, Value::Number(dp.value() as f64));
                    }
                }
                AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                    for dp in h.data_points() {
                        let mut snapshot = HistogramSnapshot::default();
                        snapshot.add(
                            dp.count(),
                            dp.sum(),
                            dp.bounds().collect(),
                            dp.bucket_counts().collect(),
                        );
                        let l = labels(&mut dp.attributes());
                        out.push(metric, l, Value::Histogram(snapshot));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// From what the Prometheus registry gathered.
    #[cfg(feature = "prometheus")]
    pub(crate) fn from_prometheus(families: &[prometheus::proto::MetricFamily]) -> Snapshot {
        let mut out = Snapshot::default();
        for family in families {
            let Some(metric) = Metric::from_name(family.name()) else {
                continue;
            };
            for m in family.get_metric() {
                let labels = m
                    .get_label()
                    .iter()
                    .map(|l| (l.name().to_owned(), l.value().to_owned()))
                    .collect();
                let value = match metric.def().kind {
                    MetricKind::Counter => Value::Number(m.get_counter().get_value()),
                    MetricKind::UpDownCounter => Value::Number(m.get_gauge().get_value()),
                    MetricKind::Histogram => {
                        let h = m.get_histogram();
                        let mut bounds = Vec::new();
                        let mut counts = Vec::new();
                        let mut below = 0;
                        for b in h.get_bucket() {
                            if b.upper_bound().is_finite() {
                                bounds.push(b.upper_bound());
                                counts.push(b.cumulative_count() - below);
                                below = b.cumulative_count();
                            }
                        }
                        counts.push(h.get_sample_count() - below);
                        let mut snapshot = HistogramSnapshot::default();
                        snapshot.add(h.get_sample_count(), h.get_sample_sum(), bounds, counts);
                        Value::Histogram(snapshot)
                    }
                };
                out.push(metric, labels, value);
            }
        }
        out
    }
}

/// The values recorded so far in the current pipeline (the process's, or a test meter's).
///
/// Read from the Prometheus exporter's registry, so it needs that exporter on (the default;
/// `serve_prometheus(false)` keeps it without serving it): `None` before [`crate::init`],
/// with the exporter off, or with the `prometheus` feature off.
pub fn snapshot() -> Option<Snapshot> {
    #[cfg(feature = "prometheus")]
    return crate::pipeline::with_current(|p| {
        let registry = p?.registry.as_ref()?;
        Some(Snapshot::from_prometheus(&registry.gather()))
    });
    #[cfg(not(feature = "prometheus"))]
    None
}
