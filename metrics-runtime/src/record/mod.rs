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
//! | timeout manager | [`TimeoutOperation`], [`operation_timeout`] |

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
pub use timeout::{operation_timeout, Escalation, TimeoutOperation, TimeoutOutcome};
pub use tool_call::{tool_call, tool_call_blocked, Outcome, ToolCallHandles, ToolCallLabels};

use opentelemetry::KeyValue;

use crate::catalog::Metric;
use crate::instruments::Measurement;
use crate::pipeline;

/// Records one measurement with string label values (the unbound path: builds the attribute
/// list, which the SDK looks up under its cardinality limit).
pub(crate) fn emit(metric: Metric, value: Measurement, labels: &[(&'static str, &str)]) {
    let attrs: Vec<KeyValue> = labels
        .iter()
        .map(|(k, v)| KeyValue::new(*k, v.to_string()))
        .collect();
    pipeline::record(metric, value, &attrs);
}
