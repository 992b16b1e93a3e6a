//! The typed recording API: one entry point per catalog family, for hand-written code and for
//! the macros' expansions alike.
//!
//! Every function records into the current pipeline (the one [`crate::init`] installed, or a
//! [`crate::testing::TestMeter`] on this thread); before `init()` the measurements are kept and
//! replayed (see [`crate::pending_before_init`]).
//!
//! | family | entry points |
//! |---|---|
//! | tool calls | [`tool_call`], [`tool_call_blocked`] |
//! | discovery | [`list_all_servers`], [`servers_discovered`] |
//! | cache | [`cache_hit`], [`cache_miss`], [`cache_lookup`] |
//! | guardrails | [`guardrail_violation`], [`output_check_violation`], [`pii_redactions`], [`guardrail_api_request`] |
//! | auth and sessions | [`auth_success`], [`auth_failure`], [`session_started`], [`user_active`] |
//! | timeout manager | [`TimeoutOperation`], [`timeout_operation`], [`operation_timeout`] |

mod access;
mod discovery;
mod security;
mod timeout;
mod tool_call;

pub use access::{auth_failure, auth_success, session_started, user_active, ActiveGuard};
pub use discovery::{cache_hit, cache_lookup, cache_miss, list_all_servers, servers_discovered};
pub use security::{
    guardrail_api_request, guardrail_violation, output_check_violation, pii_redactions,
};
pub(crate) use security::{guardrail_violation_in, output_check_violation_in, pii_redactions_in};
pub use timeout::{
    operation_timeout, timeout_operation, Escalation, TimeoutOperation, TimeoutOutcome,
};
pub(crate) use tool_call::{record_unbound, tool_call_blocked_in};
pub use tool_call::{tool_call, tool_call_blocked, Outcome, ToolCallLabels};
pub(crate) use tool_call::{FailureCounter, ToolCallHandles};

use opentelemetry::KeyValue;

use crate::bound_cache::CallSite;
use crate::catalog::{Metric, CATALOG};
use crate::instruments::{Bound, Measurement};
use crate::pipeline::{self, Pipeline};

/// Per metric, the handles bound to each label-value set the typed API has seen.
static SITES: [CallSite<Bound>; CATALOG.len()] = [const { CallSite::new() }; CATALOG.len()];

/// The most label keys any catalog metric has.
const MAX_LABELS: usize = 3;

// The label-set cache keeps up to this many values per label set.
const _: () = assert!(MAX_LABELS <= crate::bound_cache::MAX_VALUES);

/// Records one measurement with string label values, in the order of the catalog's keys.
///
/// After the first call with a label-value set, this is a lookup in the metric's
/// [`CallSite`] and an atomic update: no allocation. The first call, a full cache, and
/// recordings before `init()` take the unbound path (owned attributes).
pub(crate) fn emit(metric: Metric, value: Measurement, labels: &[(&'static str, &str)]) {
    pipeline::with_current(|p| emit_in(p.map(|p| &**p), metric, value, labels));
}

/// How a measurement reaches its pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Through the call site's bound handles (the normal path).
    Cached,
    /// Through the SDK's unbound API: for a guard's `Drop` (a panic or a cancellation, which
    /// can happen during thread-local teardown, when the lock-free maps' thread-locals may
    /// be gone).
    Unbound,
}

/// Records one measurement by `route`.
pub(crate) fn emit_via(
    route: Route,
    pipeline: Option<&Pipeline>,
    metric: Metric,
    value: Measurement,
    labels: &[(&'static str, &str)],
) {
    match (route, pipeline) {
        (Route::Unbound, Some(p)) => p.record(metric, value, &attributes(labels)),
        _ => emit_in(pipeline, metric, value, labels),
    }
}

/// Records one measurement in `pipeline`, the one a guard captured when its call started;
/// `None` (the call started before `init()`) records in the current pipeline, or keeps the
/// measurement for `init()`.
pub(crate) fn emit_in(
    pipeline: Option<&Pipeline>,
    metric: Metric,
    value: Measurement,
    labels: &[(&'static str, &str)],
) {
    debug_assert!(labels.len() <= MAX_LABELS);
    match pipeline {
        Some(p) => {
            let site = &SITES[metric as usize];
            match p.sites.bound.get_or_bind(p, site, labels, |p, values| {
                let attrs: Vec<KeyValue> = labels
                    .iter()
                    .zip(values)
                    .map(|((k, _), v)| KeyValue::new(*k, v.to_string()))
                    .collect();
                p.instruments.bind(metric, &attrs)
            }) {
                Some(bound) => bound.record(value),
                None => p.record(metric, value, &attributes(labels)),
            }
        }
        None => pipeline::record(metric, value, &attributes(labels)),
    }
}

fn attributes(labels: &[(&'static str, &str)]) -> Vec<KeyValue> {
    labels
        .iter()
        .map(|(k, v)| KeyValue::new(*k, v.to_string()))
        .collect()
}

/// `n` in decimal, written into `buf` (no allocation on the recording path).
pub(crate) fn decimal(mut n: u16, buf: &mut [u8; 5]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).expect("ASCII digits")
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_writes_every_u16() {
        for n in [0u16, 7, 10, 200, 404, 9999, 10000, u16::MAX] {
            assert_eq!(super::decimal(n, &mut [0; 5]), n.to_string());
        }
    }
}
