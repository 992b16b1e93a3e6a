//! What macro expansions call. Not a public API: names and signatures change with the macros,
//! which always come from the same release (`mcp-gateway-metrics` pins `mcp-gateway-metrics-macros` exactly).
//! Expansions name these items by absolute path, `::mcp_gateway_metrics::__private::...`.

mod call_scope;
mod classify;
mod flow;
mod guardrail;
mod simple;
mod timeout;
mod tool_call;

pub use crate::record::TimeoutOutcome;
pub use crate::spans::{enter, instrument};
#[cfg(feature = "rmcp")]
pub(crate) use call_scope::inside_call;
pub use call_scope::{in_call, CallScope, CallState, InCall};
pub use classify::{Classified, Classify, ViaAnything, ViaErrorType, ViaTypeName};
pub use flow::{label, never_returned, once, Branch, FromResidual, LabelValue};
pub use guardrail::{
    guardrail_finish, GuardrailCall, GuardrailHandles, GuardrailResult, GuardrailSite,
};
pub use simple::{auth_finish, cache_lookup_finish, AuthResult, CacheResult};
pub use timeout::{enforce, enforce_unrecorded, timeout_error, TimeoutOp, TimeoutResult};
pub use tool_call::{ToolCallGuard, ToolCallSite};

pub use crate::labels::{CacheType, Direction, OperationType};
pub use core::ops::ControlFlow;
pub use core::option::Option::{self, None, Some};
pub use core::result::Result::{Err, Ok};
pub use std::convert::From;
pub use std::string::{String, ToString};
pub use std::time::Duration;

/// `Duration::from_nanos`, for durations the macros parsed at compile time.
pub const fn nanos(n: u64) -> Duration {
    Duration::from_nanos(n)
}
