//! How an error becomes the bounded `error_type` label (and, for guardrail calls, a status
//! code), and the timeout error that enforced operations return.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use crate::labels::OperationType;

/// Classifies an error for the metrics: a bounded `error_type` label value, whether the error
/// means "blocked by a guardrail", and the status code a guardrail-API call reports.
///
/// The values are `&'static str` on purpose: a label must come from a small fixed set, never
/// from request data. Derive it for enums with `#[derive(ErrorType)]`: each variant's name in
/// snake_case, adjustable per variant:
///
/// ```
/// use mcp_gateway_metrics::ErrorType;
///
/// #[derive(Debug, ErrorType)]
/// enum GatewayError {
///     UpstreamUnavailable,                        // "upstream_unavailable"
///     #[error_type("bad_arguments", status = 400)]
///     InvalidArguments(String),
///     #[error_type(blocked)]                      // ends the call as blocked
///     InjectionAttack,
///     #[error_type(crash)]                        // also an error (a crash)
///     UpstreamCrashed,
///     #[error_type(transparent)]                  // delegates to the field
///     Timeout(mcp_gateway_metrics::Timeout),
/// }
///
/// assert_eq!(GatewayError::UpstreamUnavailable.error_type(), "upstream_unavailable");
/// assert_eq!(GatewayError::InvalidArguments("x".into()).status_code(), 400);
/// assert_eq!(GatewayError::InjectionAttack.blocked_reason(), Some("injection_attack"));
/// assert!(GatewayError::UpstreamCrashed.is_crash());
/// ```
///
/// `std::io::Error`, boxed `dyn Error`s and (feature `anyhow`) `anyhow::Error` implement it
/// ([`crate::error_labels`]). Errors whose type does not implement it are classified by their
/// type's name in snake_case (`GatewayError` → `gateway_error`); derive it for labels that do
/// not depend on how the compiler prints type names.
pub trait ErrorType {
    /// The `error_type` label value.
    fn error_type(&self) -> &'static str;

    /// `Some(reason)` when this error means a guardrail blocked the call.
    fn blocked_reason(&self) -> Option<&'static str> {
        None
    }

    /// The status code of a guardrail-API call that failed with this error.
    fn status_code(&self) -> u16 {
        500
    }

    /// Whether this error is a crash (the upstream went away, an exception): the call then
    /// also counts in `enkrypt_tool_call_error_counter`, like a panic.
    fn is_crash(&self) -> bool {
        false
    }
}

/// An enforced operation ran out of time. Functions under `#[timeout_op]` return it through
/// their error type (`E: From<Timeout>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout {
    operation: OperationType,
    after: Duration,
}

impl Timeout {
    /// A timeout of `operation` after `after`.
    pub fn new(operation: OperationType, after: Duration) -> Self {
        Timeout { operation, after }
    }

    /// The operation type that timed out.
    pub fn operation(&self) -> OperationType {
        self.operation
    }

    /// The timeout that was exceeded.
    pub fn after(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} operation timed out after {:?}",
            self.operation, self.after
        )
    }
}

impl std::error::Error for Timeout {}

impl ErrorType for Timeout {
    fn error_type(&self) -> &'static str {
        "timeout"
    }

    fn status_code(&self) -> u16 {
        504
    }
}

/// The default `error_type` of an error type without an [`ErrorType`] impl: the last segment
/// of its type name, in snake_case (interned once per type).
/// Interned in a lock-free map: the failure path takes no process-wide lock.
pub(crate) fn type_name_label<E: ?Sized>() -> &'static str {
    // Blocking resizes, so that no lookup keeps probing a table an unfinished incremental
    // resize left behind.
    static NAMES: LazyLock<papaya::HashMap<&'static str, &'static str>> = LazyLock::new(|| {
        papaya::HashMap::builder()
            .resize_mode(papaya::ResizeMode::Blocking)
            .build()
    });
    let full = std::any::type_name::<E>();
    let names = NAMES.pin();
    if let Some(label) = names.get(full) {
        return label;
    }
    names.get_or_insert_with(full, || {
        Box::leak(snake_case(last_segment(full)).into_boxed_str())
    })
}

fn last_segment(type_name: &str) -> &str {
    let without_generics = type_name.split('<').next().unwrap_or(type_name);
    without_generics
        .rsplit("::")
        .next()
        .unwrap_or(without_generics)
}

/// `InvalidArguments` → `invalid_arguments`, `HTTPError` → `http_error`. (The derive in
/// mcp-gateway-metrics-macros has the same function for variant names: a proc-macro crate cannot share
/// code with the crate that re-exports it.)
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_handles_acronyms_and_digits() {
        assert_eq!(snake_case("InvalidArguments"), "invalid_arguments");
        assert_eq!(snake_case("HTTPError"), "http_error");
        assert_eq!(snake_case("Error"), "error");
        assert_eq!(snake_case("Oauth2Failed"), "oauth2_failed");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }

    #[test]
    fn unclassified_errors_are_named_after_their_type() {
        struct GatewayError;
        assert_eq!(type_name_label::<GatewayError>(), "gateway_error");
        assert_eq!(type_name_label::<std::io::Error>(), "error");
        assert_eq!(type_name_label::<Vec<u8>>(), "vec");
    }
}
