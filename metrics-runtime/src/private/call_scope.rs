//! Which `#[tool_call]` the current code runs in, so that a guardrail check that blocks
//! inside a tool call tells that call the block is counted already: a blocked call is counted
//! in `enkrypt_tool_call_blocked_total` exactly once, with or without a `RequestContext`.
//!
//! The call is current while its body runs: around a synchronous body, and around each poll
//! of an asynchronous one (so it follows the body across threads). A guardrail check run on
//! another task (spawned from the body) is outside the call.

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// What a tool call shares with the guardrail checks inside it.
#[derive(Debug, Default)]
pub struct CallState {
    block_counted: AtomicBool,
}

impl CallState {
    /// Whether a guardrail check inside the call counted a block.
    pub(crate) fn block_counted(&self) -> bool {
        self.block_counted.load(Ordering::Relaxed)
    }
}

thread_local! {
    static CURRENT: Cell<*const CallState> = const { Cell::new(ptr::null()) };
}

/// Makes a call current on this thread until dropped, then restores the previous one.
#[derive(Debug)]
#[must_use = "the call is current only while the scope lives"]
pub struct CallScope<'a> {
    /// `None` when the thread-local is being torn down: nothing was changed.
    previous: Option<*const CallState>,
    _state: PhantomData<&'a CallState>,
}

impl<'a> CallScope<'a> {
    /// Makes `state` current. The scope borrows it, so it cannot outlive it.
    #[inline]
    pub fn enter(state: &'a CallState) -> Self {
        CallScope {
            previous: CURRENT.try_with(|c| c.replace(state)).ok(),
            _state: PhantomData,
        }
    }
}

impl Drop for CallScope<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(previous) = self.previous {
            let _ = CURRENT.try_with(|c| c.set(previous));
        }
    }
}

/// Whether a guardrail check that blocks should count the block: yes outside any call (the
/// check is all there is), and inside a call only for the first check that blocks it (the
/// call then knows not to count it again).
pub(crate) fn claim_block() -> bool {
    CURRENT
        .try_with(|c| {
            let state = c.get();
            if state.is_null() {
                return true;
            }
            // SAFETY: `CURRENT` holds a non-null pointer only while a `CallScope` created from
            // that `&CallState` lives on this thread: `enter` stores it, the scope's `drop`
            // restores the previous value, and the scope borrows the state for its whole life
            // (its lifetime parameter), so the state is alive. Scopes restore in LIFO order:
            // they are locals of generated code (sync bodies) or of one `poll` call (async
            // bodies), never moved or leaked. `tests/tests/blocked_once.rs` stresses nested,
            // cross-thread and panicking calls.
            !unsafe { &*state }
                .block_counted
                .swap(true, Ordering::Relaxed)
        })
        .unwrap_or(true)
}

#[cfg(feature = "rmcp")]
/// Whether code on this thread runs inside a `#[tool_call]` body right now.
pub(crate) fn inside_call() -> bool {
    CURRENT.try_with(|c| !c.get().is_null()).unwrap_or(false)
}

pin_project_lite::pin_project! {
    /// An async tool-call body, polled with its call current.
    #[derive(Debug)]
    pub struct InCall<'a, F> {
        state: &'a CallState,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for InCall<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _current = CallScope::enter(this.state);
        this.future.poll(cx)
    }
}

/// Runs an async body with the call of `state` current on every poll.
#[inline]
pub fn in_call<F: Future>(state: &CallState, future: F) -> InCall<'_, F> {
    InCall { state, future }
}
