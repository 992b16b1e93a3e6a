//! The `tracing` spans of the attributes (cargo feature `tracing`).
//!
//! Each `#[tool_call]`, `#[guardrail_check]` and `#[timeout_op]` call runs its body in a span
//! (target `mcp_gateway_metrics`, level INFO), nested as the attributes nest, and following an
//! `async` body across `.await`:
//!
//! | span | fields set at start | fields set at the end |
//! |---|---|---|
//! | `tool_call` | `server`, `tool` | `outcome` (`success`, `failure`, `crash`, `blocked`), `error_type` (failures and crashes) or `reason` (blocked) |
//! | `guardrail_check` | `server`, `tool`, `direction`, `endpoint` | `verdict` (`allow`, `block`, `error`), `status_code` |
//! | `timeout_op` | `operation`, `timeout_ms` | `outcome` (`completed`, `timed_out`, `cancelled`), `escalation` |
//!
//! With `tracing-opentelemetry` as a layer of the application's subscriber, these spans become
//! OpenTelemetry traces of each tool call. Without the feature, [`CallSpan`] is a zero-sized
//! placeholder and nothing is created.

use std::future::Future;

/// The span of one instrumented call: `tracing::Span` with the `tracing` feature, otherwise a
/// zero-sized placeholder.
#[cfg(feature = "tracing")]
pub type CallSpan = tracing::Span;

/// The span of one instrumented call: `tracing::Span` with the `tracing` feature, otherwise a
/// zero-sized placeholder.
#[cfg(not(feature = "tracing"))]
#[derive(Debug, Clone, Default)]
pub struct CallSpan;

#[cfg(feature = "tracing")]
mod imp {
    use super::CallSpan;
    use tracing::field::Empty;

    pub(crate) fn tool_call(server: &str, tool: &str) -> CallSpan {
        tracing::info_span!(
            target: "mcp_gateway_metrics",
            "tool_call",
            server,
            tool,
            outcome = Empty,
            error_type = Empty,
            reason = Empty,
        )
    }

    pub(crate) fn guardrail_check(
        server: &str,
        tool: &str,
        direction: &str,
        endpoint: &str,
    ) -> CallSpan {
        tracing::info_span!(
            target: "mcp_gateway_metrics",
            "guardrail_check",
            server,
            tool,
            direction,
            endpoint,
            verdict = Empty,
            status_code = Empty,
        )
    }

    pub(crate) fn timeout_op(operation: &str, timeout_ms: u64) -> CallSpan {
        tracing::info_span!(
            target: "mcp_gateway_metrics",
            "timeout_op",
            operation,
            timeout_ms,
            outcome = Empty,
            escalation = Empty,
        )
    }

    pub(crate) fn record(span: &CallSpan, field: &'static str, value: &str) {
        span.record(field, value);
    }

    pub(crate) fn record_u64(span: &CallSpan, field: &'static str, value: u64) {
        span.record(field, value);
    }

    pub(crate) fn none() -> CallSpan {
        CallSpan::none()
    }
}

#[cfg(not(feature = "tracing"))]
mod imp {
    use super::CallSpan;

    #[inline(always)]
    pub(crate) fn tool_call(_: &str, _: &str) -> CallSpan {
        CallSpan
    }

    #[inline(always)]
    pub(crate) fn guardrail_check(_: &str, _: &str, _: &str, _: &str) -> CallSpan {
        CallSpan
    }

    #[inline(always)]
    pub(crate) fn timeout_op(_: &str, _: u64) -> CallSpan {
        CallSpan
    }

    #[inline(always)]
    pub(crate) fn none() -> CallSpan {
        CallSpan
    }

    #[inline(always)]
    pub(crate) fn record(_: &CallSpan, _: &'static str, _: &str) {}

    #[inline(always)]
    pub(crate) fn record_u64(_: &CallSpan, _: &'static str, _: u64) {}
}

pub(crate) use imp::{guardrail_check, none, record, record_u64, timeout_op, tool_call};

/// Runs `future` inside `span` on every poll, so the span follows it across `.await`.
#[cfg(feature = "tracing")]
pub fn instrument<F: Future>(span: &CallSpan, future: F) -> tracing::instrument::Instrumented<F> {
    tracing::Instrument::instrument(future, span.clone())
}

/// Runs `future` inside `span` on every poll (without the `tracing` feature: `future` itself).
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub fn instrument<F: Future>(_: &CallSpan, future: F) -> F {
    future
}

/// Enters `span` until the returned guard is dropped (for synchronous bodies).
#[cfg(feature = "tracing")]
pub fn enter(span: &CallSpan) -> tracing::span::EnteredSpan {
    span.clone().entered()
}

/// Enters `span` until the returned guard is dropped (without the `tracing` feature: nothing).
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub fn enter(_: &CallSpan) -> NotEntered {
    NotEntered
}

/// What [`enter`] returns without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
#[derive(Debug)]
pub struct NotEntered;
