//! The timeout manager's metrics: one [`TimeoutOperation`] per managed operation.

use std::time::Duration;

// tokio's clock: the std clock, unless a test pauses time to make durations exact.
use tokio::time::Instant;

use super::access::ActiveGuard;
use super::emit;
use crate::catalog::Metric;
use crate::instruments::Measurement;
use crate::labels::OperationType;
use crate::pipeline::{self, PipelineRef};
use crate::spans::{self, CallSpan};

/// The timeout configured for an operation type in the current pipeline (the gateway's
/// default before `init()`).
///
/// ```
/// use std::time::Duration;
/// use mcp_gateway_metrics::{record, OperationType};
/// assert_eq!(record::operation_timeout(OperationType::Cache), Duration::from_secs(5));
/// ```
pub fn operation_timeout(op: OperationType) -> Duration {
    pipeline::with_current(|p| match p {
        Some(p) => p.operation_timeout(op),
        // Instrumentation compiled out: the installed (recording-free) configuration still
        // holds the operator's timeouts.
        None => pipeline::global().map_or(op.default_timeout(), |p| p.operation_timeout(op)),
    })
}

/// How an operation ended, as far as its deadline is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutOutcome {
    /// It finished by itself (with a result or its own error). Counted as successful when
    /// it finished within its timeout, as timed out otherwise (an observed, not enforced,
    /// operation can overrun).
    Completed,
    /// The deadline cut it off. Its escalation level is `timeout`, however late the
    /// scheduler ran the cut-off (a deadline that fires late under load is still the
    /// deadline, not a failure).
    TimedOut,
    /// It, or its caller, was cancelled before it finished. It reaches no escalation level:
    /// it did not run to any threshold of its own.
    Cancelled,
}

/// The escalation level reached, from `ratio = elapsed / timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Escalation {
    /// Below 80 % of the timeout.
    Normal,
    /// At least 80 %: `enkrypt_timeout_escalation_warn`.
    Warn,
    /// At least 100 %: `enkrypt_timeout_escalation_timeout`.
    Timeout,
    /// At least 120 %: `enkrypt_timeout_escalation_fail`.
    Fail,
}

impl Escalation {
    /// `normal`, `warn`, `timeout` or `fail`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Escalation::Normal => "normal",
            Escalation::Warn => "warn",
            Escalation::Timeout => "timeout",
            Escalation::Fail => "fail",
        }
    }

    /// The level of an elapsed time against a timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_gateway_metrics::record::Escalation;
    /// let t = Duration::from_secs(10);
    /// assert_eq!(Escalation::of(Duration::from_secs(7), t), Escalation::Normal);
    /// assert_eq!(Escalation::of(Duration::from_secs(8), t), Escalation::Warn);
    /// assert_eq!(Escalation::of(Duration::from_secs(10), t), Escalation::Timeout);
    /// assert_eq!(Escalation::of(Duration::from_secs(12), t), Escalation::Fail);
    /// ```
    pub fn of(elapsed: Duration, timeout: Duration) -> Escalation {
        // Integer arithmetic: 8 s of 10 s is exactly 80 %, with no rounding surprise.
        let (e, t) = (elapsed.as_nanos(), timeout.as_nanos().max(1));
        if e * 10 >= t * 12 {
            Escalation::Fail
        } else if e >= t {
            Escalation::Timeout
        } else if e * 10 >= t * 8 {
            Escalation::Warn
        } else {
            Escalation::Normal
        }
    }
}

/// One timeout-managed operation, from start to finish.
///
/// Starting adds one to `enkrypt_timeout_active_operations`. Finishing (or dropping, which
/// counts as cancelled) records `enkrypt_timeout_operations_total`, one of `_successful`,
/// `_timed_out` or `_cancelled`, the escalation level reached and the duration, all with
/// `operation_type`, and gives the active operation back.
///
/// ```
/// use std::time::Duration;
/// use mcp_gateway_metrics::record::{TimeoutOperation, TimeoutOutcome};
/// use mcp_gateway_metrics::{testing::TestMeter, OperationType};
///
/// let meter = TestMeter::new();
/// let op = TimeoutOperation::start(OperationType::Guardrail, None);
/// assert_eq!(op.timeout(), Duration::from_secs(15));
/// assert_eq!(meter.gauge("enkrypt_timeout_active_operations", &[]), 1);
/// op.finish(TimeoutOutcome::Completed);
///
/// let guardrail = [("operation_type", "guardrail")];
/// assert_eq!(meter.counter("enkrypt_timeout_operations_total", &guardrail), 1);
/// assert_eq!(meter.counter("enkrypt_timeout_operations_successful", &guardrail), 1);
/// assert_eq!(meter.gauge("enkrypt_timeout_active_operations", &[]), 0);
/// ```
#[derive(Debug)]
#[must_use = "dropping the operation right away records it as cancelled"]
pub struct TimeoutOperation {
    op: OperationType,
    timeout: Duration,
    started: Instant,
    pipeline: Option<PipelineRef>,
    finished: bool,
    span: CallSpan,
    _active: ActiveGuard,
}

impl TimeoutOperation {
    /// Starts an operation; `timeout: None` takes the operation type's configured timeout.
    pub fn start(op: OperationType, timeout: Option<Duration>) -> Self {
        let pipeline = pipeline::current();
        let active = ActiveGuard::enter_in(Metric::TimeoutActiveOperations, pipeline.clone());
        let timeout = timeout.unwrap_or_else(|| match &pipeline {
            Some(p) => p.operation_timeout(op),
            None => op.default_timeout(),
        });
        TimeoutOperation {
            op,
            timeout,
            started: Instant::now(),
            pipeline,
            finished: false,
            span: spans::timeout_op(op.as_str(), timeout.as_millis() as u64),
            _active: active,
        }
    }

    /// The operation's span (feature `tracing`; see [`crate::spans`]).
    pub fn span(&self) -> &CallSpan {
        &self.span
    }

    /// The operation type.
    pub fn operation_type(&self) -> OperationType {
        self.op
    }

    /// The operation's timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// When the timeout expires (on tokio's clock, which is the std clock unless paused).
    pub fn deadline(&self) -> Instant {
        self.started + self.timeout
    }

    /// Time since start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Records how the operation ended and returns the escalation level it reached.
    pub fn finish(mut self, outcome: TimeoutOutcome) -> Escalation {
        self.finished = true;
        self.record(outcome)
    }

    fn record(&self, outcome: TimeoutOutcome) -> Escalation {
        let escalation = record_finished(
            self.pipeline.as_deref(),
            self.op,
            self.timeout,
            self.started.elapsed(),
            outcome,
        );
        let name = match outcome {
            TimeoutOutcome::Completed => "completed",
            TimeoutOutcome::TimedOut => "timed_out",
            TimeoutOutcome::Cancelled => "cancelled",
        };
        spans::record(&self.span, "outcome", name);
        spans::record(&self.span, "escalation", escalation.as_str());
        escalation
    }
}

/// Records a timeout-managed operation that the caller timed itself: the total, its outcome,
/// the escalation level reached and its duration (the in-flight gauge is
/// [`TimeoutOperation`]'s business). Returns the escalation level.
///
/// ```
/// use std::time::Duration;
/// use mcp_gateway_metrics::record::{timeout_operation, Escalation, TimeoutOutcome};
/// use mcp_gateway_metrics::{testing::TestMeter, OperationType};
///
/// let meter = TestMeter::new();
/// let level = timeout_operation(
///     OperationType::Discovery,
///     Duration::from_secs(20),
///     Duration::from_secs(17),
///     TimeoutOutcome::Completed,
/// );
/// assert_eq!(level, Escalation::Warn);
/// let discovery = [("operation_type", "discovery")];
/// assert_eq!(meter.counter("enkrypt_timeout_escalation_warn", &discovery), 1);
/// assert_eq!(meter.counter("enkrypt_timeout_operations_successful", &discovery), 1);
/// ```
pub fn timeout_operation(
    op: OperationType,
    timeout: Duration,
    elapsed: Duration,
    outcome: TimeoutOutcome,
) -> Escalation {
    let pipeline = pipeline::current();
    record_finished(pipeline.as_deref(), op, timeout, elapsed, outcome)
}

/// The escalation level an operation reached: the ratio rule for an operation that finished
/// by itself (an observed one can overrun into `fail`), `timeout` for one its deadline cut
/// off, none (`Normal`) for a cancelled one.
fn escalation_of(outcome: TimeoutOutcome, elapsed: Duration, timeout: Duration) -> Escalation {
    match outcome {
        TimeoutOutcome::Completed => Escalation::of(elapsed, timeout),
        TimeoutOutcome::TimedOut => Escalation::Timeout,
        TimeoutOutcome::Cancelled => Escalation::Normal,
    }
}

fn record_finished(
    pipeline: Option<&crate::pipeline::Pipeline>,
    op: OperationType,
    timeout: Duration,
    elapsed: Duration,
    outcome: TimeoutOutcome,
) -> Escalation {
    let escalation = escalation_of(outcome, elapsed, timeout);
    let result = match outcome {
        TimeoutOutcome::Cancelled => Metric::TimeoutOperationsCancelled,
        TimeoutOutcome::TimedOut => Metric::TimeoutOperationsTimedOut,
        TimeoutOutcome::Completed if escalation >= Escalation::Timeout => {
            Metric::TimeoutOperationsTimedOut
        }
        TimeoutOutcome::Completed => Metric::TimeoutOperationsSuccessful,
    };
    let level = match escalation {
        Escalation::Normal => None,
        Escalation::Warn => Some(Metric::TimeoutEscalationWarn),
        Escalation::Timeout => Some(Metric::TimeoutEscalationTimeout),
        Escalation::Fail => Some(Metric::TimeoutEscalationFail),
    };
    let seconds = elapsed.as_secs_f64();
    match pipeline {
        Some(p) => {
            let h = &p.prebound.timeouts[op.index()];
            h.total.add(1);
            let counter = |m| match m {
                Metric::TimeoutOperationsCancelled => &h.cancelled,
                Metric::TimeoutOperationsTimedOut => &h.timed_out,
                Metric::TimeoutOperationsSuccessful => &h.successful,
                Metric::TimeoutEscalationWarn => &h.warn,
                Metric::TimeoutEscalationTimeout => &h.timeout,
                _ => &h.fail,
            };
            counter(result).add(1);
            if let Some(level) = level {
                counter(level).add(1);
            }
            h.duration.record(seconds);
        }
        None => {
            let labels = [("operation_type", op.as_str())];
            emit(Metric::TimeoutOperations, Measurement::Add(1), &labels);
            emit(result, Measurement::Add(1), &labels);
            if let Some(level) = level {
                emit(level, Measurement::Add(1), &labels);
            }
            emit(
                Metric::TimeoutOperationDuration,
                Measurement::Observe(seconds),
                &labels,
            );
        }
    }
    escalation
}

impl Drop for TimeoutOperation {
    fn drop(&mut self) {
        if !self.finished {
            self.record(TimeoutOutcome::Cancelled);
        }
    }
}
