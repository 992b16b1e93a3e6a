//! The guard of `#[guardrail_check]`.

use opentelemetry::metrics::{BoundCounter, BoundHistogram};
use opentelemetry::KeyValue;

use crate::bound_cache::{CallSite, HandlesRef};
use crate::catalog::Metric;
use crate::instruments::Measurement;
use crate::labels::{Direction, OutputCheck};
use crate::pipeline::{self, Pipeline, PipelineRef};
use crate::record::{self, decimal, emit_via, Route};
use crate::spans::{self, CallSpan};
use crate::verdict::{Verdict, VerdictSink};

use super::Classified;

/// Handles bound to one (endpoint, server_name, tool_name) of a call site.
#[derive(Debug)]
pub struct GuardrailHandles {
    server: Box<str>,
    tool: Box<str>,
    ok_requests: BoundCounter<u64>,
    duration: BoundHistogram<f64>,
}

impl GuardrailHandles {
    fn bind(p: &Pipeline, endpoint: &'static str, server: &str, tool: &str) -> Self {
        let endpoint = KeyValue::new("endpoint", endpoint);
        GuardrailHandles {
            server: server.into(),
            tool: tool.into(),
            ok_requests: p.instruments.bind_counter(
                Metric::ApiRequests,
                &[endpoint.clone(), KeyValue::new("status_code", "200")],
            ),
            duration: p
                .instruments
                .bind_histogram(Metric::ApiRequestDuration, &[endpoint]),
        }
    }
}

/// Per call site: handles per (server_name, tool_name).
pub type GuardrailSite = CallSite<GuardrailHandles>;

#[derive(Debug)]
enum Labels {
    /// Handles owned by the check's pipeline, which the check keeps alive.
    Bound(HandlesRef<GuardrailHandles>),
    Owned {
        server: Box<str>,
        tool: Box<str>,
    },
}

/// Created when a guardrail check starts; records the API request, its duration and the
/// verdict's findings when it ends. Dropped unfinished, it records status `499` (cancelled)
/// or `500` (panic).
#[derive(Debug)]
#[must_use]
pub struct GuardrailCall {
    /// The pipeline current when the check started: every measurement of it goes there.
    pipeline: Option<PipelineRef>,
    endpoint: &'static str,
    direction: Direction,
    labels: Labels,
    started: crate::clock::Started,
    done: bool,
    span: CallSpan,
}

impl GuardrailCall {
    /// Starts a check of `direction` against `endpoint`, for a call of `tool` on `server`.
    #[inline]
    pub fn start(
        site: &GuardrailSite,
        endpoint: &'static str,
        direction: Direction,
        server: &str,
        tool: &str,
    ) -> Self {
        let pipeline = pipeline::current();
        let bound = pipeline.as_deref().and_then(|p| {
            let labels = [("server_name", server), ("tool_name", tool)];
            p.sites
                .guardrails
                .get_or_bind(p, site, &labels, |p, v| {
                    GuardrailHandles::bind(p, endpoint, v[0], v[1])
                })
                .map(HandlesRef::new)
        });
        GuardrailCall {
            endpoint,
            direction,
            labels: match bound {
                Some(h) => Labels::Bound(h),
                None => Labels::Owned {
                    server: server.into(),
                    tool: tool.into(),
                },
            },
            span: spans::guardrail_check(server, tool, direction.as_str(), endpoint),
            started: crate::clock::Started::now(
                pipeline
                    .as_deref()
                    .map_or(crate::clock::Clock::Tsc, |p| p.clock),
            ),
            done: false,
            pipeline,
        }
    }

    /// The check's span (feature `tracing`), which its body runs in.
    pub fn span(&self) -> &CallSpan {
        &self.span
    }

    /// The bound handles, if any.
    fn bound(&self) -> Option<&GuardrailHandles> {
        match &self.labels {
            // SAFETY: the handles are owned by `self.pipeline`, which `self` keeps.
            Labels::Bound(h) => Some(unsafe { h.get() }),
            Labels::Owned { .. } => None,
        }
    }

    fn names(&self) -> (&str, &str) {
        match (&self.labels, self.bound()) {
            (_, Some(h)) => (&h.server, &h.tool),
            (Labels::Owned { server, tool }, None) => (server, tool),
            (Labels::Bound(_), None) => unreachable!("bound labels have handles"),
        }
    }

    fn request(&self, status: u16, route: Route) {
        let seconds = self.started.elapsed().as_secs_f64();
        spans::record_u64(&self.span, "status_code", u64::from(status));
        match self.bound() {
            Some(h) if status == 200 => {
                h.ok_requests.add(1);
                h.duration.record(seconds);
                return;
            }
            Some(h) => h.duration.record(seconds),
            None => emit_via(
                route,
                self.pipeline.as_deref(),
                Metric::ApiRequestDuration,
                Measurement::Observe(seconds),
                &[("endpoint", self.endpoint)],
            ),
        }
        emit_via(
            route,
            self.pipeline.as_deref(),
            Metric::ApiRequests,
            Measurement::Add(1),
            &[
                ("endpoint", self.endpoint),
                ("status_code", decimal(status, &mut [0; 5])),
            ],
        );
    }

    /// Records a check that returned a verdict.
    pub fn finish_verdict<V: Verdict + ?Sized>(mut self, verdict: &V) {
        self.done = true;
        self.request(verdict.status_code(), Route::Cached);
        let (server, tool) = self.names();
        let mut findings = Findings {
            pipeline: self.pipeline.as_deref(),
            direction: self.direction,
            server,
            tool,
            blocked: false,
        };
        verdict.report(&mut findings);
        let name = if findings.blocked { "block" } else { "allow" };
        spans::record(&self.span, "verdict", name);
    }

    /// Records a check that failed with an error of this status.
    pub fn finish_status(mut self, status: u16) {
        self.done = true;
        self.request(status, Route::Cached);
        spans::record(&self.span, "verdict", "error");
    }
}

impl Drop for GuardrailCall {
    fn drop(&mut self) {
        if !self.done {
            // Maybe during thread-local teardown: no lookups that need thread-locals.
            let status = if std::thread::panicking() { 500 } else { 499 };
            self.request(status, Route::Unbound);
            spans::record(&self.span, "verdict", "error");
        }
    }
}

/// Records a verdict's findings.
struct Findings<'a> {
    pipeline: Option<&'a Pipeline>,
    direction: Direction,
    server: &'a str,
    tool: &'a str,
    blocked: bool,
}

impl VerdictSink for Findings<'_> {
    fn violation(&mut self, violation_type: &str, detector: &str) {
        record::guardrail_violation_in(
            self.pipeline,
            self.direction,
            violation_type,
            self.server,
            detector,
        );
    }

    fn output_check_failed(&mut self, check: OutputCheck) {
        record::output_check_violation_in(self.pipeline, check, self.server, self.tool);
    }

    fn pii_redacted(&mut self, pii_type: &str, count: u64) {
        record::pii_redactions_in(self.pipeline, self.server, pii_type, count);
    }

    fn blocked(&mut self, reason: &str) {
        self.blocked = true;
        if super::call_scope::claim_block() {
            record::tool_call_blocked_in(self.pipeline, self.server, self.tool, reason);
        }
    }
}

/// What a guardrail check returns: a verdict, or `Result<verdict, E>`.
#[diagnostic::on_unimplemented(
    message = "`#[guardrail_check]` needs a function that returns a verdict or `Result<verdict, E>`, not `{Self}`",
    label = "the verdict is what the check records",
    note = "a verdict implements `mcp_gateway_metrics::Verdict`; `mcp_gateway_metrics::GuardrailVerdict` is ready-made"
)]
pub trait GuardrailResult {
    /// Records the call that returned `self`.
    fn record(&self, call: GuardrailCall, classified: Classified);
}

impl<V: Verdict> GuardrailResult for V {
    fn record(&self, call: GuardrailCall, _: Classified) {
        call.finish_verdict(self)
    }
}

impl<V: Verdict, E> GuardrailResult for Result<V, E> {
    fn record(&self, call: GuardrailCall, classified: Classified) {
        match self {
            Ok(verdict) => call.finish_verdict(verdict),
            Err(_) => call.finish_status(classified.status),
        }
    }
}

/// Records the guardrail call that returned `value`.
#[inline]
pub fn guardrail_finish<T: GuardrailResult + ?Sized>(
    value: &T,
    call: GuardrailCall,
    classified: Classified,
) {
    value.record(call, classified)
}
