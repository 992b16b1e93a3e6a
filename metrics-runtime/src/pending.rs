//! Recordings made before [`crate::init`]: kept, in order, and replayed into the pipeline when
//! it is installed, so a counter bumped during startup is not lost.
//!
//! The buffer holds up to [`PENDING_CAPACITY`] measurements. Past that, measurements are
//! counted as dropped, and a warning goes through `tracing` once (and again at `init()`), so a
//! program that never calls `init()` cannot grow without bound and cannot lose data silently.

use std::sync::{Arc, Mutex, MutexGuard};

use opentelemetry::KeyValue;

use crate::catalog::Metric;
use crate::instruments::Measurement;
use crate::pipeline::{self, Pipeline};

/// How many measurements are kept before `init()`.
pub const PENDING_CAPACITY: usize = 65_536;

#[derive(Default)]
struct Pending {
    items: Vec<(Metric, Measurement, Vec<KeyValue>)>,
    dropped: u64,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending {
    items: Vec::new(),
    dropped: 0,
});

fn lock() -> MutexGuard<'static, Pending> {
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Keeps one measurement for replay, unless the pipeline arrived meanwhile.
pub(crate) fn record(metric: Metric, value: Measurement, attrs: &[KeyValue]) {
    if cfg!(not(feature = "instrument")) {
        return; // instrumentation compiled out: nothing to keep
    }
    let mut pending = lock();
    // Checked under the lock that `install` holds while it replays: nothing slips between.
    if let Some(global) = pipeline::global() {
        drop(pending);
        global.record(metric, value, attrs);
        return;
    }
    if pending.items.len() < PENDING_CAPACITY {
        // Long values are replaced now (the pipeline bounds the rest when they are replayed),
        // so that the buffer's memory is bounded too.
        use crate::label_bounds::{within, DEFAULT_MAX_LABEL_LENGTH, TOO_LONG};
        let attrs = attrs
            .iter()
            .map(
                |kv| match within(&kv.value.as_str(), DEFAULT_MAX_LABEL_LENGTH) == TOO_LONG {
                    true => KeyValue::new(kv.key.clone(), TOO_LONG),
                    false => kv.clone(),
                },
            )
            .collect();
        pending.items.push((metric, value, attrs));
    } else {
        pending.dropped += 1;
        if pending.dropped == 1 {
            tracing::warn!(
                target: "mcp_gateway_metrics",
                "{PENDING_CAPACITY} measurements were recorded before \
                 mcp_gateway_metrics::init(); further ones are dropped until it is called"
            );
        }
    }
}

/// Installs the global pipeline with `set` and replays the kept measurements into it.
pub(crate) fn install(
    set: impl FnOnce() -> Result<&'static Arc<Pipeline>, Arc<Pipeline>>,
) -> Result<(), Arc<Pipeline>> {
    let mut pending = lock();
    let global = set()?;
    for (metric, value, attrs) in pending.items.drain(..) {
        global.record(metric, value, &attrs);
    }
    pending.items.shrink_to_fit();
    if pending.dropped > 0 {
        tracing::warn!(
            target: "mcp_gateway_metrics",
            "{} measurements recorded before init() were dropped (the first \
             {PENDING_CAPACITY} were kept); call mcp_gateway_metrics::init() earlier",
            pending.dropped
        );
    }
    Ok(())
}

/// How many measurements are waiting for `init()`.
///
/// ```
/// // In a process that has not called init(), recordings wait here instead of vanishing.
/// let before = mcp_gateway_metrics::pending_before_init();
/// mcp_gateway_metrics::record::cache_hit(mcp_gateway_metrics::CacheType::Tools);
/// assert_eq!(mcp_gateway_metrics::pending_before_init(), before + 1);
/// ```
pub fn pending_before_init() -> usize {
    lock().items.len()
}

/// How many measurements made before `init()` did not fit the buffer and were dropped.
pub fn dropped_before_init() -> u64 {
    lock().dropped
}
