//! The catalog's instruments, created once per pipeline from its meter, plus the handles bound
//! once to the label values that the reference fixes (cache types, operation types, none).

use opentelemetry::metrics::{
    BoundCounter, BoundHistogram, BoundUpDownCounter, Counter, Histogram, Meter, UpDownCounter,
};
use opentelemetry::KeyValue;

use crate::catalog::{Metric, MetricKind};
use crate::config::Config;
use crate::labels::{CacheType, OperationType};

/// One created instrument.
#[derive(Debug, Clone)]
pub(crate) enum Instrument {
    Counter(Counter<u64>),
    Histogram(Histogram<f64>),
    UpDown(UpDownCounter<i64>),
}

/// A value to record, of the kind its instrument takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Measurement {
    /// Added to a counter.
    Add(u64),
    /// Recorded into a histogram.
    Observe(f64),
    /// Added to an up-down counter.
    Change(i64),
}

/// An instrument bound to one label set.
#[derive(Debug)]
pub(crate) enum Bound {
    Counter(BoundCounter<u64>),
    Histogram(BoundHistogram<f64>),
    UpDown(BoundUpDownCounter<i64>),
}

impl Bound {
    pub(crate) fn record(&self, value: Measurement) {
        match (self, value) {
            (Bound::Counter(c), Measurement::Add(v)) => c.add(v),
            (Bound::Histogram(h), Measurement::Observe(v)) => h.record(v),
            (Bound::UpDown(u), Measurement::Change(v)) => u.add(v),
            (bound, value) => {
                debug_assert!(
                    false,
                    "mcp-gateway-metrics bug: {value:?} does not fit {bound:?}"
                )
            }
        }
    }
}

/// Every instrument of the catalog, indexed by [`Metric`].
#[derive(Debug)]
pub(crate) struct Instruments {
    all: Vec<Instrument>,
}

impl Instruments {
    pub(crate) fn create(meter: &Meter, config: &Config) -> Self {
        let all = Metric::ALL
            .iter()
            .map(|&metric| {
                let def = metric.def();
                match def.kind {
                    MetricKind::Counter => Instrument::Counter(
                        meter
                            .u64_counter(def.name)
                            .with_description(def.description)
                            .with_unit(def.unit)
                            .build(),
                    ),
                    MetricKind::Histogram => Instrument::Histogram(
                        meter
                            .f64_histogram(def.name)
                            .with_description(def.description)
                            .with_unit(def.unit)
                            .with_boundaries(config.buckets_of(metric).to_vec())
                            .build(),
                    ),
                    MetricKind::UpDownCounter => Instrument::UpDown(
                        meter
                            .i64_up_down_counter(def.name)
                            .with_description(def.description)
                            .with_unit(def.unit)
                            .build(),
                    ),
                }
            })
            .collect();
        Instruments { all }
    }

    pub(crate) fn get(&self, metric: Metric) -> &Instrument {
        &self.all[metric as usize]
    }

    /// Records one measurement. The catalog guarantees the kinds match (tested); a mismatch
    /// would be a bug in this crate, and is reported rather than panicking in user code.
    pub(crate) fn record(&self, metric: Metric, value: Measurement, attrs: &[KeyValue]) {
        match (self.get(metric), value) {
            (Instrument::Counter(c), Measurement::Add(v)) => c.add(v, attrs),
            (Instrument::Histogram(h), Measurement::Observe(v)) => h.record(v, attrs),
            (Instrument::UpDown(u), Measurement::Change(v)) => u.add(v, attrs),
            (_, value) => debug_assert!(
                false,
                "mcp-gateway-metrics bug: {value:?} does not fit {}",
                metric.name()
            ),
        }
    }

    /// Binds any instrument to a label set.
    pub(crate) fn bind(&self, metric: Metric, attrs: &[KeyValue]) -> Bound {
        match self.get(metric) {
            Instrument::Counter(c) => Bound::Counter(c.bind(attrs)),
            Instrument::Histogram(h) => Bound::Histogram(h.bind(attrs)),
            Instrument::UpDown(u) => Bound::UpDown(u.bind(attrs)),
        }
    }

    pub(crate) fn bind_counter(&self, metric: Metric, attrs: &[KeyValue]) -> BoundCounter<u64> {
        match self.get(metric) {
            Instrument::Counter(c) => c.bind(attrs),
            other => unreachable!("{} is not a counter: {other:?}", metric.name()),
        }
    }

    pub(crate) fn bind_histogram(&self, metric: Metric, attrs: &[KeyValue]) -> BoundHistogram<f64> {
        match self.get(metric) {
            Instrument::Histogram(h) => h.bind(attrs),
            other => unreachable!("{} is not a histogram: {other:?}", metric.name()),
        }
    }

    pub(crate) fn bind_up_down(&self, metric: Metric) -> BoundUpDownCounter<i64> {
        match self.get(metric) {
            Instrument::UpDown(u) => u.bind(&[]),
            other => unreachable!("{} is not an up-down counter: {other:?}", metric.name()),
        }
    }
}

/// The timeout-manager handles of one operation type.
#[derive(Debug)]
pub(crate) struct TimeoutHandles {
    pub(crate) total: BoundCounter<u64>,
    pub(crate) successful: BoundCounter<u64>,
    pub(crate) timed_out: BoundCounter<u64>,
    pub(crate) cancelled: BoundCounter<u64>,
    pub(crate) warn: BoundCounter<u64>,
    pub(crate) timeout: BoundCounter<u64>,
    pub(crate) fail: BoundCounter<u64>,
    pub(crate) duration: BoundHistogram<f64>,
}

/// Handles bound once per pipeline to every label set the reference fixes.
#[derive(Debug)]
pub(crate) struct Prebound {
    pub(crate) active_sessions: BoundUpDownCounter<i64>,
    pub(crate) active_users: BoundUpDownCounter<i64>,
    pub(crate) active_operations: BoundUpDownCounter<i64>,
    pub(crate) cache_hits: Vec<BoundCounter<u64>>,
    pub(crate) cache_misses: Vec<BoundCounter<u64>>,
    pub(crate) timeouts: Vec<TimeoutHandles>,
}

impl Prebound {
    pub(crate) fn bind(instruments: &Instruments) -> Self {
        let cache = |metric| {
            CacheType::ALL
                .iter()
                .map(|t| {
                    instruments.bind_counter(metric, &[KeyValue::new("cache_type", t.as_str())])
                })
                .collect()
        };
        let timeouts = OperationType::ALL
            .iter()
            .map(|op| {
                let attrs = [KeyValue::new("operation_type", op.as_str())];
                let counter = |m| instruments.bind_counter(m, &attrs);
                TimeoutHandles {
                    total: counter(Metric::TimeoutOperations),
                    successful: counter(Metric::TimeoutOperationsSuccessful),
                    timed_out: counter(Metric::TimeoutOperationsTimedOut),
                    cancelled: counter(Metric::TimeoutOperationsCancelled),
                    warn: counter(Metric::TimeoutEscalationWarn),
                    timeout: counter(Metric::TimeoutEscalationTimeout),
                    fail: counter(Metric::TimeoutEscalationFail),
                    duration: instruments.bind_histogram(Metric::TimeoutOperationDuration, &attrs),
                }
            })
            .collect();
        Prebound {
            active_sessions: instruments.bind_up_down(Metric::ActiveSessions),
            active_users: instruments.bind_up_down(Metric::ActiveUsers),
            active_operations: instruments.bind_up_down(Metric::TimeoutActiveOperations),
            cache_hits: cache(Metric::CacheHits),
            cache_misses: cache(Metric::CacheMisses),
            timeouts,
        }
    }
}
