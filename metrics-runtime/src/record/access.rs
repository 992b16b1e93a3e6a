//! Authentication, and the in-flight gauges kept by RAII guards.

use super::emit;
use crate::catalog::Metric;
use crate::instruments::Measurement;
use crate::pipeline::{self, Pipeline, PipelineRef};

/// Counts a successful authentication (`enkrypt_auth_success_total{auth_provider, project_id}`).
pub fn auth_success(auth_provider: &str, project_id: &str) {
    emit(
        Metric::AuthSuccess,
        Measurement::Add(1),
        &[("auth_provider", auth_provider), ("project_id", project_id)],
    );
}

/// Counts a failed authentication (`enkrypt_auth_failure_total{auth_provider, failure_reason}`).
/// Keep `failure_reason` bounded: `missing_key`, `invalid_key`, `expired`, ...
pub fn auth_failure(auth_provider: &str, failure_reason: &str) {
    emit(
        Metric::AuthFailure,
        Measurement::Add(1),
        &[
            ("auth_provider", auth_provider),
            ("failure_reason", failure_reason),
        ],
    );
}

/// Adds one to `enkrypt_active_sessions` until the guard is dropped.
///
/// The decrement happens in `Drop`, so it also happens when the session's task panics or is
/// cancelled: the gauge always returns to its level.
///
/// ```
/// use mcp_gateway_metrics::{record, testing::TestMeter};
/// let meter = TestMeter::new();
/// let session = record::session_started();
/// assert_eq!(meter.gauge("enkrypt_active_sessions", &[]), 1);
/// drop(session);
/// assert_eq!(meter.gauge("enkrypt_active_sessions", &[]), 0);
/// ```
pub fn session_started() -> ActiveGuard {
    ActiveGuard::enter(Metric::ActiveSessions)
}

/// Adds one to `enkrypt_active_users` until the guard is dropped.
pub fn user_active() -> ActiveGuard {
    ActiveGuard::enter(Metric::ActiveUsers)
}

/// Holds +1 on an in-flight gauge; gives it back on drop, however the scope ends.
#[derive(Debug)]
#[must_use = "the gauge goes back down when the guard is dropped"]
pub struct ActiveGuard {
    metric: Metric,
    /// The pipeline the +1 went to; `None` when it was kept for `init()`.
    pipeline: Option<PipelineRef>,
}

impl ActiveGuard {
    /// `metric` must be one of the catalog's up-down counters without labels.
    pub(crate) fn enter(metric: Metric) -> Self {
        Self::enter_in(metric, pipeline::current())
    }

    /// Like [`ActiveGuard::enter`], in a pipeline the caller already looked up.
    pub(crate) fn enter_in(metric: Metric, pipeline: Option<PipelineRef>) -> Self {
        match pipeline.as_deref() {
            Some(p) => bound(p, metric).add(1),
            None => pipeline::record(metric, Measurement::Change(1), &[]),
        }
        ActiveGuard { metric, pipeline }
    }
}

fn bound(p: &Pipeline, metric: Metric) -> &opentelemetry::metrics::BoundUpDownCounter<i64> {
    match metric {
        Metric::ActiveSessions => &p.prebound.active_sessions,
        Metric::ActiveUsers => &p.prebound.active_users,
        _ => &p.prebound.active_operations,
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        match self.pipeline.as_deref() {
            Some(p) => bound(p, self.metric).add(-1),
            // The +1 is waiting for init() (or was replayed by it): the -1 follows the same road.
            None => pipeline::record(self.metric, Measurement::Change(-1), &[]),
        }
    }
}
