//! Metrics for any [`rmcp`] client or server, without annotating a function (feature `rmcp`).
//!
//! - [`MeteredClient`] wraps a client peer of one upstream server: its
//!   [`call_tool`](MeteredClient::call_tool) records what `#[tool_call]` records, with an
//!   optional deadline under the `tool_execution` timeout, and its
//!   [`list_tools`](MeteredClient::list_tools) records discovery (and the tools cache, when
//!   asked).
//! - [`MeteredServer`] wraps any [`ServerHandler`](rmcp::ServerHandler): every incoming
//!   `tools/call` is a tool call of that server, every initialized session is counted in
//!   `enkrypt_active_sessions`, and a request the client cancels ends as `cancelled`.
//!
//! ## Label values
//! `server_name` is the name given to the wrapper. `tool_name` is the requested name only if
//! the server listed a tool of that name (its last `tools/list`, or, on the server side, the
//! handler's [`get_tool`](rmcp::ServerHandler::get_tool)); any other name is recorded as
//! [`UNLISTED_TOOL`], so no string a client sends becomes a label value. `project_id` comes
//! from the current [`RequestContext`](crate::RequestContext) (`unknown` outside one).
//!
//! ## Outcomes
//! | what happened | recorded as | `error_type` |
//! |---|---|---|
//! | a result | success | |
//! | a result with `is_error: true` | failure | `tool_error` |
//! | an MCP error response | failure | by code: `parse_error`, `invalid_request`, `method_not_found`, `invalid_params`, `internal_error`, `resource_not_found`, else `mcp_error` |
//! | the deadline passed ([`ServiceError::Timeout`] too) | failure | `timeout` |
//! | the transport closed (the peer went away) | crash | `transport_closed` |
//! | the transport failed to send | crash | `transport_error` |
//! | the request was cancelled, or the call's future dropped | crash | `cancelled` |
//! | any other service error | failure | `unexpected_response`, `subscription_lagged`, `input_required_exceeded`, `service_error` |
//!
//! A crash is counted in `enkrypt_tool_call_failure_total` and also in
//! `enkrypt_tool_call_error_counter`, exactly as for `#[tool_call]`. Neither wrapper ends a
//! call as blocked: only guardrails block, and a `#[guardrail_check]` inside a
//! `#[tool_call]` around the client call counts that.
//!
//! ## Inside a `#[tool_call]`
//! A gateway that wraps its own steps (guardrails, caches) around the upstream call marks
//! that whole function `#[tool_call]`. A [`MeteredClient::call_tool`] inside it does not count
//! the call a second time: the enclosing call counts it, with its own outcome and duration;
//! the client still enforces and records its deadline.

mod client;
mod delegate;
mod server;
mod tool_names;

pub use client::{MeteredClient, ToolTimeout};
pub use server::MeteredServer;
pub use tool_names::MAX_LISTED_TOOLS;

use rmcp::model::{CallToolResult, ErrorCode, ErrorData};
use rmcp::service::ServiceError;

use crate::record::Outcome;

/// The `tool_name` of a call to a tool the server did not list.
pub const UNLISTED_TOOL: &str = "_unlisted";

/// The outcome of a tool call that returned `result`.
fn result_outcome(result: &CallToolResult) -> Outcome<'static> {
    if result.is_error == Some(true) {
        Outcome::Failure {
            error_type: "tool_error",
        }
    } else {
        Outcome::Success
    }
}

/// The `error_type` of an MCP error response.
fn mcp_error_type(error: &ErrorData) -> &'static str {
    match error.code {
        ErrorCode::PARSE_ERROR => "parse_error",
        ErrorCode::INVALID_REQUEST => "invalid_request",
        ErrorCode::METHOD_NOT_FOUND => "method_not_found",
        ErrorCode::INVALID_PARAMS => "invalid_params",
        ErrorCode::INTERNAL_ERROR => "internal_error",
        ErrorCode::RESOURCE_NOT_FOUND => "resource_not_found",
        _ => "mcp_error",
    }
}

/// The outcome of a call that failed with `error`.
fn service_error_outcome(error: &ServiceError) -> Outcome<'static> {
    let failure = |error_type| Outcome::Failure { error_type };
    let crash = |error_type| Outcome::Crash { error_type };
    match error {
        ServiceError::McpError(e) => failure(mcp_error_type(e)),
        ServiceError::Timeout { .. } => failure("timeout"),
        ServiceError::TransportClosed => crash("transport_closed"),
        ServiceError::TransportSend(_) => crash("transport_error"),
        ServiceError::Cancelled { .. } => crash("cancelled"),
        ServiceError::UnexpectedResponse => failure("unexpected_response"),
        ServiceError::SubscriptionLagged { .. } => failure("subscription_lagged"),
        ServiceError::InputRequiredRoundsExceeded { .. } => failure("input_required_exceeded"),
        _ => failure("service_error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_bounded_types() {
        let e = ErrorData::invalid_params("bad", None);
        assert_eq!(mcp_error_type(&e), "invalid_params");
        let e = ErrorData::new(ErrorCode(-1), "custom", None);
        assert_eq!(mcp_error_type(&e), "mcp_error");
        assert_eq!(
            service_error_outcome(&ServiceError::TransportClosed),
            Outcome::Crash {
                error_type: "transport_closed"
            }
        );
        assert_eq!(
            service_error_outcome(&ServiceError::Cancelled { reason: None }),
            Outcome::Crash {
                error_type: "cancelled"
            }
        );
    }

    #[test]
    fn tool_errors_are_failures() {
        let ok = CallToolResult::success(vec![]);
        assert_eq!(result_outcome(&ok), Outcome::Success);
        let err = CallToolResult::error(vec![]);
        assert_eq!(
            result_outcome(&err),
            Outcome::Failure {
                error_type: "tool_error"
            }
        );
    }
}
