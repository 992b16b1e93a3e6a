//! The pieces of `#[timeout_op]`.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error_type::Timeout;
use crate::record::TimeoutOperation;

pub use crate::record::TimeoutOperation as TimeoutOp;

/// Runs `future` until the operation's deadline: `Some(output)` if it finished in time, `None`
/// if the deadline cut it off (the future is dropped then, so guards inside it see a
/// cancellation).
///
/// Enforcement needs a tokio runtime with its timer; outside one the operation is observed
/// only (a warning says so once), never a panic.
pub async fn enforce<F: Future>(op: &TimeoutOperation, future: F) -> Option<F::Output> {
    if tokio::runtime::Handle::try_current().is_err() {
        warn_outside_tokio();
        return Some(future.await);
    }
    tokio::time::timeout_at(op.deadline(), future).await.ok()
}

/// `#[timeout_op]` with instrumentation compiled out: the same deadline (the given timeout, or
/// the operation type's configured one), enforced the same way, with the same error, and
/// nothing recorded.
pub async fn enforce_unrecorded<F: Future>(
    op: crate::labels::OperationType,
    timeout: Option<std::time::Duration>,
    future: F,
) -> Result<F::Output, Timeout> {
    let limit = timeout.unwrap_or_else(|| crate::record::operation_timeout(op));
    if tokio::runtime::Handle::try_current().is_err() {
        warn_outside_tokio();
        return Ok(future.await);
    }
    tokio::time::timeout(limit, future)
        .await
        .map_err(|_| Timeout::new(op, limit))
}

fn warn_outside_tokio() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            target: "mcp_gateway_metrics",
            "#[timeout_op] ran outside a tokio runtime; its deadline is observed, not enforced"
        );
    }
}

/// What an enforced `#[timeout_op]` function returns when its deadline passes: a `Result`
/// whose error converts from [`Timeout`]. A trait rather than a check of the type's name, so
/// that aliases (`type Res<T> = Result<T, MyError>`) work and look-alikes
/// (`struct CallToolResult`) are refused, with this message on the return type.
#[diagnostic::on_unimplemented(
    message = "an enforced #[timeout_op] returns `Err(Timeout.into())` when its deadline passes, \
               so its return type must be a `Result<T, E>` with `E: From<mcp_gateway_metrics::Timeout>`, \
               not `{Self}`",
    label = "not a `Result`",
    note = "to only observe the deadline, add `enforce = false` to #[timeout_op]"
)]
pub trait TimeoutResult {
    /// `Err(timeout.into())`.
    fn from_timeout(timeout: Timeout) -> Self;
}

impl<T, E: From<Timeout>> TimeoutResult for Result<T, E> {
    fn from_timeout(timeout: Timeout) -> Self {
        Err(E::from(timeout))
    }
}

/// The error an enforced operation returns when its deadline passes.
pub fn timeout_error(op: &TimeoutOperation) -> Timeout {
    Timeout::new(op.operation_type(), op.timeout())
}
