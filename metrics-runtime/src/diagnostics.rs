//! Warnings the runtime emits through `tracing` (target `mcp_gateway_metrics`), rate-limited
//! where a condition can repeat quickly.

// Used by the `/metrics` endpoint only so far.
#![cfg_attr(not(feature = "prometheus"), allow(dead_code))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most one warning per `every`; the ones in between are counted and reported with the next.
#[derive(Debug)]
pub(crate) struct RateLimited {
    every: Duration,
    last: Mutex<Option<Instant>>,
    suppressed: AtomicU64,
}

impl RateLimited {
    pub(crate) const fn new(every: Duration) -> Self {
        RateLimited {
            every,
            last: Mutex::new(None),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Warns with `message` unless a warning went out less than `every` ago.
    pub(crate) fn warn(&self, message: impl FnOnce() -> String) {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| now.duration_since(at) < self.every) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *last = Some(now);
        let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
        tracing::warn!(
            target: "mcp_gateway_metrics",
            suppressed,
            "{}",
            message()
        );
    }
}
