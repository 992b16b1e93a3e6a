//! The tool-call family: calls, success, failure, errors, blocked, duration.
//!
//! **Invariant**, per (server_name, tool_name), at every scrape:
//! `enkrypt_tool_calls_total` (summed over project_id) =
//! `enkrypt_tool_call_success_total` + `enkrypt_tool_call_failure_total` (summed over
//! error_type) + the calls ended as [`Outcome::Blocked`]. Every call is counted once, when it
//! ends, together with its outcome and its duration, so the counts never disagree mid-call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::metrics::{BoundCounter, BoundHistogram};
use opentelemetry::{KeyValue, StringValue};

use super::{emit_in, emit_via, Route};
use crate::bound_cache::CallSite;
use crate::catalog::Metric;
use crate::deferred::{self, Deferred};
use crate::instruments::Measurement;
use crate::pipeline::{self, Pipeline};

/// The labels of one tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolCallLabels<'a> {
    /// The upstream MCP server, e.g. `github`.
    pub server_name: &'a str,
    /// The tool on that server, e.g. `create_issue`.
    pub tool_name: &'a str,
    /// The project the caller authenticated for (only on `enkrypt_tool_calls_total`).
    pub project_id: &'a str,
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// It returned a result: `enkrypt_tool_call_success_total`.
    Success,
    /// It returned an error: `enkrypt_tool_call_failure_total{error_type}`.
    Failure {
        /// A bounded classification such as `upstream_error` or `timeout`.
        error_type: &'a str,
    },
    /// It crashed (panicked, was cancelled): the failure counter and also
    /// `enkrypt_tool_call_error_counter{error_type}`.
    Crash {
        /// `panic`, `cancelled`, or another bounded classification.
        error_type: &'a str,
    },
    /// A guardrail blocked it: `enkrypt_tool_call_blocked_total{reason}` instead of
    /// success or failure.
    Blocked {
        /// Why, e.g. `injection_attack` or `pii`.
        reason: &'a str,
    },
}

/// The handles bound to one (server_name, tool_name, project_id): a call records without an
/// attribute lookup. They keep the label values, so the rarer outcomes can be recorded
/// without borrowing the caller's arguments.
///
/// The calls batched per thread (the global pipeline's, see [`crate::deferred`]) record their
/// durations when their batch is drained, and add their counts to `unflushed` (an atomic add
/// per label set and drain, next to what the lookup reads), which each collection moves to
/// the SDK counters first ([`Self::flush`]). Those fields come first (`repr(C)`),
/// right after the fields the label-set cache's check reads.
#[derive(Debug)]
#[repr(C)]
pub struct ToolCallHandles {
    duration: BoundHistogram<f64>,
    unflushed: Unflushed,
    calls: BoundCounter<u64>,
    success: BoundCounter<u64>,
    server: Arc<str>,
    tool: Arc<str>,
    /// The failure counters of the first error types this label set failed with: the error
    /// path records with one more atomic add, not a second label-set lookup. Bound once each,
    /// never replaced (so a reader never sees one freed); other error types take the lookup.
    /// Allocated on the first failure: most label sets never fail, and a small entry keeps
    /// more label sets in cache.
    failures: OnceLock<Box<FailureSlots>>,
}

/// Counts of batched calls not yet added to the SDK counters.
#[derive(Debug, Default)]
struct Unflushed {
    calls: AtomicU64,
    successes: AtomicU64,
}

/// How many error types a label set keeps bound failure counters for.
const FAILURE_SLOTS: usize = 4;

type FailureSlots = [OnceLock<FailureCounter>; FAILURE_SLOTS];

/// A failure counter bound for one error type.
#[derive(Debug)]
pub(crate) struct FailureCounter {
    /// The error type, length-bounded.
    name: Box<str>,
    /// The `&'static str` it was bound from, if it was one.
    known: Option<&'static str>,
    counter: BoundCounter<u64>,
    /// Failures of batched calls not yet added to `counter`.
    unflushed: AtomicU64,
}

impl FailureCounter {
    /// Adds failures of batched calls, after their calls were added
    /// ([`ToolCallHandles::add_unflushed`]).
    pub(crate) fn add_unflushed(&self, failures: u64) {
        // Release: a flush that takes these takes their calls too.
        self.unflushed.fetch_add(failures, Ordering::Release);
    }

    /// Moves the unflushed failures to the SDK counter.
    fn flush(&self) {
        if self.unflushed.load(Ordering::Relaxed) != 0 {
            self.counter.add(self.unflushed.swap(0, Ordering::Acquire));
        }
    }

    /// Whether this counts `error_type` (length-bounded), which is `known` if given: the same
    /// static string (same address and length, so the same bytes) or the same bytes.
    #[inline]
    fn is_for(&self, error_type: &str, known: Option<&'static str>) -> bool {
        matches!((self.known, known), (Some(a), Some(b)) if std::ptr::eq(a, b))
            || *self.name == *error_type
    }
}

impl ToolCallHandles {
    /// Binds the handles of admitted values: server, tool, project.
    fn bind(p: &Pipeline, values: &[&str]) -> Self {
        // Shared strings: the attributes' copies (ours, the SDK's) share them rather than
        // allocate again; fewer blocks freed between the SDK's objects keeps a label set's
        // objects closer together (1,000 label sets cycling: ~7 % faster).
        let [server_name, tool_name, project_id] =
            [values[0], values[1], values[2]].map(Arc::<str>::from);
        let server = KeyValue::new("server_name", StringValue::from(server_name.clone()));
        let tool = KeyValue::new("tool_name", StringValue::from(tool_name.clone()));
        let project = KeyValue::new("project_id", StringValue::from(project_id));
        let pair = [server.clone(), tool.clone()];
        ToolCallHandles {
            server: server_name,
            tool: tool_name,
            calls: p
                .instruments
                .bind_counter(Metric::ToolCalls, &[server, tool, project]),
            success: p.instruments.bind_counter(Metric::ToolCallSuccess, &pair),
            duration: p
                .instruments
                .bind_histogram(Metric::ToolCallDuration, &pair),
            failures: Default::default(),
            unflushed: Unflushed::default(),
        }
    }

    /// The failure counter of `error_type` for this label set, bound on first use while a
    /// slot is free. `known`: the same name as a `&'static str`, when the caller has one (an
    /// `ErrorType` returns the same one every time): later calls with it match by address.
    #[inline]
    fn failure(
        &self,
        p: &Pipeline,
        error_type: &str,
        known: Option<&'static str>,
    ) -> Option<&FailureCounter> {
        // `error_type` is not a request key: bounding its length is all admission does.
        let error_type = p.bounds.length(error_type);
        for slot in self.failures.get_or_init(Default::default).iter() {
            let bound = match slot.get() {
                Some(bound) => bound,
                None => slot.get_or_init(|| {
                    let attrs = [
                        KeyValue::new("server_name", StringValue::from(self.server.clone())),
                        KeyValue::new("tool_name", StringValue::from(self.tool.clone())),
                        KeyValue::new("error_type", error_type.to_owned()),
                    ];
                    FailureCounter {
                        name: error_type.into(),
                        known,
                        counter: p.instruments.bind_counter(Metric::ToolCallFailure, &attrs),
                        unflushed: AtomicU64::new(0),
                    }
                }),
            };
            // Another thread may have bound a free slot for another error type first.
            if bound.is_for(error_type, known) {
                return Some(bound);
            }
        }
        None
    }

    /// The handles of (server, tool, project) at `site` if `p`'s front table holds them (the
    /// label set was used lately): the hot path's lookup, without bounds or binding.
    #[inline]
    pub(crate) fn find<'p>(
        site: &CallSite<ToolCallHandles>,
        p: &'p Pipeline,
        server: &str,
        tool: &str,
        project: &str,
    ) -> Option<&'p ToolCallHandles> {
        p.sites.tool_calls.find(site, &[server, tool, project])
    }

    /// Records a successful call: two counters and the duration, in seconds.
    #[inline]
    pub(crate) fn succeed(&self, seconds: f64) {
        self.calls.add(1);
        self.success.add(1);
        self.duration.record(seconds);
    }

    /// Records a successful call later, with its thread's batch (see [`crate::deferred`]).
    #[inline]
    pub(crate) fn succeed_deferred(&'static self, seconds: f64) {
        deferred::push(Deferred {
            handles: self,
            failure: None,
            seconds,
        });
    }

    /// Records a call that returned an error later, with its thread's batch, unless its error
    /// type has no bound failure counter (see [`Self::fail`]).
    #[inline]
    pub(crate) fn fail_deferred(
        &'static self,
        p: &Pipeline,
        error_type: &str,
        known: Option<&'static str>,
        seconds: f64,
    ) {
        match self.failure(p, error_type, known) {
            Some(counter) => deferred::push(Deferred {
                handles: self,
                failure: Some(counter),
                seconds,
            }),
            None => self.fail_unslotted(p, error_type, seconds),
        }
    }

    /// Adds calls of [`Self::succeed_deferred`] and [`Self::fail_deferred`], and their
    /// successes (their failures: [`FailureCounter::add_unflushed`], after this).
    pub(crate) fn add_unflushed(&self, calls: u64, successes: u64) {
        self.unflushed.calls.fetch_add(calls, Ordering::Relaxed);
        if successes > 0 {
            // Release: a flush that takes these takes their calls too.
            self.unflushed
                .successes
                .fetch_add(successes, Ordering::Release);
        }
    }

    /// Records a batched call's duration, in seconds.
    pub(crate) fn record_duration(&self, seconds: f64) {
        self.duration.record(seconds);
    }

    /// Moves the counts of batched calls to the SDK counters: the outcomes first, then the
    /// calls, so that a collection never sees an outcome without its call.
    pub(crate) fn flush(&self) {
        if let Some(slots) = self.failures.get() {
            slots
                .iter()
                .filter_map(OnceLock::get)
                .for_each(FailureCounter::flush);
        }
        let unflushed = &self.unflushed;
        if unflushed.successes.load(Ordering::Relaxed) != 0 {
            self.success
                .add(unflushed.successes.swap(0, Ordering::Acquire));
        }
        if unflushed.calls.load(Ordering::Relaxed) != 0 {
            self.calls.add(unflushed.calls.swap(0, Ordering::Relaxed));
        }
    }

    /// Records a call that returned an error: the call, its failure, its duration in seconds.
    /// Records in `p`, the pipeline these handles were bound in. `known`: `error_type` as a
    /// `&'static str`, when the caller has one (see [`Self::failure`]).
    #[inline]
    pub(crate) fn fail(
        &self,
        p: &Pipeline,
        error_type: &str,
        known: Option<&'static str>,
        seconds: f64,
    ) {
        match self.failure(p, error_type, known) {
            Some(failure) => {
                self.calls.add(1);
                failure.counter.add(1);
                self.duration.record(seconds);
            }
            None => self.fail_unslotted(p, error_type, seconds),
        }
    }

    /// [`Self::fail`] for an error type without a bound failure counter (every slot taken by
    /// other error types): its failure takes the per-metric lookup.
    fn fail_unslotted(&self, p: &Pipeline, error_type: &str, seconds: f64) {
        self.calls.add(1);
        failure(Route::Cached, Some(p), &self.server, &self.tool, error_type);
        self.duration.record(seconds);
    }

    /// The handles of `labels` at `site`, owned by `p`. `None` when `p` holds too many label
    /// sets already: record with [`record_unbound`] then. `front_missed`: the caller just
    /// searched `p`'s front table for them.
    pub(crate) fn resolve<'p>(
        site: &CallSite<ToolCallHandles>,
        p: &'p Pipeline,
        labels: &ToolCallLabels<'_>,
        front_missed: bool,
    ) -> Option<&'p ToolCallHandles> {
        let labels = [
            ("server_name", labels.server_name),
            ("tool_name", labels.tool_name),
            ("project_id", labels.project_id),
        ];
        let sites = &p.sites.tool_calls;
        if front_missed {
            sites.get_or_bind_in_map(p, site, &labels, ToolCallHandles::bind)
        } else {
            sites.get_or_bind(p, site, &labels, ToolCallHandles::bind)
        }
    }

    /// Records a finished call. `count_block`: whether a `Blocked` outcome still has to be
    /// counted in `enkrypt_tool_call_blocked_total` (a guardrail check may have done it).
    /// Records the call in `p`, the pipeline these handles were bound in.
    pub(crate) fn finish(
        &self,
        p: &Pipeline,
        outcome: Outcome<'_>,
        duration: Duration,
        count_block: bool,
        route: Route,
    ) {
        let seconds = duration.as_secs_f64();
        match outcome {
            Outcome::Success => self.succeed(seconds),
            Outcome::Failure { error_type } if route == Route::Cached => {
                self.fail(p, error_type, None, seconds)
            }
            other => {
                self.calls.add(1);
                record_outcome(route, Some(p), &self.server, &self.tool, other, count_block);
                self.duration.record(seconds);
            }
        }
    }
}

static SHARED_SITE: CallSite<ToolCallHandles> = CallSite::new();

/// Records one finished tool call: the call, its outcome and its duration.
///
/// ```
/// use std::time::Duration;
/// use mcp_gateway_metrics::record::{tool_call, Outcome, ToolCallLabels};
/// use mcp_gateway_metrics::testing::TestMeter;
///
/// let meter = TestMeter::new();
/// let labels = ToolCallLabels { server_name: "github", tool_name: "create_issue", project_id: "p1" };
/// tool_call(&labels, Outcome::Success, Duration::from_millis(300));
/// tool_call(&labels, Outcome::Failure { error_type: "upstream_error" }, Duration::from_secs(2));
///
/// assert_eq!(meter.counter("enkrypt_tool_calls_total", &[("server_name", "github")]), 2);
/// assert_eq!(meter.counter("enkrypt_tool_call_success_total", &[]), 1);
/// assert_eq!(meter.counter("enkrypt_tool_call_failure_total", &[("error_type", "upstream_error")]), 1);
/// assert_eq!(meter.histogram("enkrypt_tool_call_duration_seconds", &[]).count, 2);
/// ```
pub fn tool_call(labels: &ToolCallLabels<'_>, outcome: Outcome<'_>, duration: Duration) {
    pipeline::with_current(|p| match p {
        Some(p) => match ToolCallHandles::resolve(&SHARED_SITE, p, labels, false) {
            Some(h) => h.finish(p, outcome, duration, true, Route::Cached),
            None => record_unbound(Route::Cached, Some(p), labels, outcome, duration, true),
        },
        None => record_unbound(Route::Cached, None, labels, outcome, duration, true),
    })
}

/// Counts a blocked call in `enkrypt_tool_call_blocked_total` alone. Prefer
/// [`Outcome::Blocked`], which also counts the call and its duration.
pub fn tool_call_blocked(server_name: &str, tool_name: &str, reason: &str) {
    pipeline::with_current(|p| {
        tool_call_blocked_in(p.map(|p| &**p), server_name, tool_name, reason)
    });
}

/// [`tool_call_blocked`] in a given pipeline.
pub(crate) fn tool_call_blocked_in(
    p: Option<&Pipeline>,
    server_name: &str,
    tool_name: &str,
    reason: &str,
) {
    emit_in(
        p,
        Metric::ToolCallBlocked,
        Measurement::Add(1),
        &[
            ("server_name", server_name),
            ("tool_name", tool_name),
            ("reason", reason),
        ],
    );
}

/// Records a finished call without bound handles (before `init()`, or a full cache).
pub(crate) fn record_unbound(
    route: Route,
    p: Option<&Pipeline>,
    labels: &ToolCallLabels<'_>,
    outcome: Outcome<'_>,
    duration: Duration,
    count_block: bool,
) {
    let pair = [
        ("server_name", labels.server_name),
        ("tool_name", labels.tool_name),
    ];
    emit_via(
        route,
        p,
        Metric::ToolCalls,
        Measurement::Add(1),
        &[
            ("server_name", labels.server_name),
            ("tool_name", labels.tool_name),
            ("project_id", labels.project_id),
        ],
    );
    match outcome {
        Outcome::Success => emit_via(
            route,
            p,
            Metric::ToolCallSuccess,
            Measurement::Add(1),
            &pair,
        ),
        other => record_outcome(
            route,
            p,
            labels.server_name,
            labels.tool_name,
            other,
            count_block,
        ),
    }
    emit_via(
        route,
        p,
        Metric::ToolCallDuration,
        Measurement::Observe(duration.as_secs_f64()),
        &pair,
    );
}

/// The outcomes other than success, through the per-metric caches.
fn record_outcome(
    route: Route,
    p: Option<&Pipeline>,
    server: &str,
    tool: &str,
    outcome: Outcome<'_>,
    count_block: bool,
) {
    match outcome {
        Outcome::Success => emit_via(
            route,
            p,
            Metric::ToolCallSuccess,
            Measurement::Add(1),
            &[("server_name", server), ("tool_name", tool)],
        ),
        Outcome::Failure { error_type } => failure(route, p, server, tool, error_type),
        Outcome::Crash { error_type } => {
            failure(route, p, server, tool, error_type);
            emit_via(
                route,
                p,
                Metric::ToolCallErrors,
                Measurement::Add(1),
                &[("server_name", server), ("error_type", error_type)],
            );
        }
        Outcome::Blocked { reason } if count_block => tool_call_blocked_in(p, server, tool, reason),
        Outcome::Blocked { .. } => {}
    }
}

fn failure(route: Route, p: Option<&Pipeline>, server: &str, tool: &str, error_type: &str) {
    emit_via(
        route,
        p,
        Metric::ToolCallFailure,
        Measurement::Add(1),
        &[
            ("server_name", server),
            ("tool_name", tool),
            ("error_type", error_type),
        ],
    );
}
