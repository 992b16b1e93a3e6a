//! A pipeline: one `SdkMeterProvider` with its readers, the catalog's instruments and the
//! pre-bound handles. The process has one global pipeline (installed by [`crate::init`]); a
//! test may route its thread's recordings to its own pipeline (see [`crate::testing`]).

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::{InstrumentationScope, Key, KeyValue};
use opentelemetry_sdk::metrics::{
    Instrument as SdkInstrument, MeterProviderBuilder, SdkMeterProvider, Stream,
};
use opentelemetry_sdk::Resource;

use crate::__private::GuardrailHandles;
use crate::bound_cache::SiteMap;
use crate::catalog::Metric;
use crate::config::Config;
use crate::instruments::Bound;
use crate::instruments::{Instruments, Measurement, Prebound};
use crate::label_bounds::LabelBounds;
use crate::labels::OperationType;
use crate::pending;
use crate::record::ToolCallHandles;

/// The instrumentation scope name of every instrument.
pub const SCOPE_NAME: &str = "mcp-gateway-metrics";

/// The instrument whose callback drains the per-thread batches of calls at each collection.
const DRAIN_HOOK: &str = "mcp_gateway_metrics.drain_batches";

/// One meter provider and everything created from it.
#[derive(Debug)]
pub struct Pipeline {
    provider: SdkMeterProvider,
    pub(crate) instruments: Instruments,
    pub(crate) prebound: Prebound,
    pub(crate) bounds: LabelBounds,
    /// The handles bound per call site and label set; they die with the pipeline.
    pub(crate) sites: Sites,
    /// What its calls' durations are measured with.
    pub(crate) clock: crate::clock::Clock,
    operation_timeouts: [Duration; OperationType::ALL.len()],
    #[cfg(feature = "prometheus")]
    pub(crate) disabled: bool,
    #[cfg(feature = "prometheus")]
    pub(crate) registry: Option<prometheus::Registry>,
}

impl Pipeline {
    /// Builds the provider from `config`, with the readers already attached to `builder`.
    pub(crate) fn build(config: &Config, builder: MeterProviderBuilder) -> Self {
        let provider = builder
            .with_resource(resource(config))
            .with_view(catalog_view(config))
            .build();
        let scope = InstrumentationScope::builder(SCOPE_NAME)
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let meter = provider.meter_with_scope(scope);
        let instruments = Instruments::create(&meter, config);
        // Each collection first hands the calls kept in per-thread batches to the SDK. An
        // observable instrument's callback is the SDK's hook for that; this one observes
        // nothing, so it is never exported.
        meter
            .u64_observable_gauge(DRAIN_HOOK)
            .with_callback(|_| crate::deferred::hand_over())
            .build();
        let prebound = Prebound::bind(&instruments);
        Pipeline {
            provider,
            instruments,
            prebound,
            bounds: LabelBounds::new(config.max_label_length, config.label_value_budget),
            sites: Sites {
                tool_calls: SiteMap::new(),
                guardrails: SiteMap::new(),
                bound: SiteMap::new(),
            },
            clock: crate::clock::Clock::Tsc,
            operation_timeouts: config.operation_timeouts,
            #[cfg(feature = "prometheus")]
            disabled: config.disabled,
            #[cfg(feature = "prometheus")]
            registry: None,
        }
    }

    pub(crate) fn provider(&self) -> &SdkMeterProvider {
        &self.provider
    }

    /// Records one measurement on the unbound path, with the label values bounded.
    pub(crate) fn record(&self, metric: Metric, value: Measurement, attrs: &[KeyValue]) {
        let bounded: Vec<KeyValue> = attrs
            .iter()
            .map(|kv| {
                let value = kv.value.as_str();
                match self.bounds.admit(kv.key.as_str(), &value) {
                    admitted if admitted == value => kv.clone(),
                    admitted => KeyValue::new(kv.key.clone(), admitted.to_owned()),
                }
            })
            .collect();
        self.instruments.record(metric, value, &bounded);
    }

    pub(crate) fn operation_timeout(&self, op: OperationType) -> Duration {
        self.operation_timeouts[op.index()]
    }
}

/// A pipeline's bound handles, by handle type.
#[derive(Debug)]
pub(crate) struct Sites {
    pub(crate) tool_calls: SiteMap<ToolCallHandles>,
    pub(crate) guardrails: SiteMap<GuardrailHandles>,
    pub(crate) bound: SiteMap<Bound>,
}

fn resource(config: &Config) -> Resource {
    Resource::builder_empty()
        .with_attributes(
            config
                .resource
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .with_attributes([
            KeyValue::new("telemetry.sdk.name", "opentelemetry"),
            KeyValue::new("telemetry.sdk.language", "rust"),
        ])
        .build()
}

/// Per instrument: the series limit, and the label keys it keeps (the catalog's, less the
/// dropped ones; a stray attribute key never reaches the exposition).
fn catalog_view(config: &Config) -> impl Fn(&SdkInstrument) -> Option<Stream> + Send + Sync {
    let limit = config.cardinality_limit();
    let keys: Vec<Vec<Key>> = Metric::ALL
        .iter()
        .map(|&m| {
            config
                .labels_of(m)
                .into_iter()
                .map(Key::from_static_str)
                .collect()
        })
        .collect();
    move |instrument: &SdkInstrument| {
        let metric = Metric::from_name(instrument.name())?;
        Stream::builder()
            .with_cardinality_limit(limit)
            .with_allowed_attribute_keys(keys[metric as usize].iter().cloned())
            .build()
            .ok()
    }
}

static GLOBAL: OnceLock<Arc<Pipeline>> = OnceLock::new();

thread_local! {
    /// The test meters of this thread, most recent last: the last one is current. A stack
    /// rather than a saved "previous", so that meters dropped out of creation order never
    /// leave a dead one current.
    static OVERRIDE: RefCell<Vec<Arc<Pipeline>>> = const { RefCell::new(Vec::new()) };
}

/// How many test meters are current on some thread, all threads together. While none is (a
/// service in production), finding the current pipeline reads no thread-local. A thread that
/// pushed an entry sees its own increment (every change is a read-modify-write of this one
/// atomic), so a relaxed load is enough.
static OVERRIDES: AtomicUsize = AtomicUsize::new(0);

/// Whether this thread may have a test meter current.
#[inline]
fn may_be_overridden() -> bool {
    OVERRIDES.load(Ordering::Relaxed) != 0
}

/// Installs `pipeline` as the process's pipeline and replays what was recorded before.
pub(crate) fn install_global(pipeline: Arc<Pipeline>) -> Result<(), Arc<Pipeline>> {
    pending::install(|| {
        GLOBAL.set(pipeline)?;
        Ok(GLOBAL.get().expect("just set"))
    })
}

pub(crate) fn global() -> Option<&'static Arc<Pipeline>> {
    GLOBAL.get()
}

/// Runs `f` with the pipeline recordings of this thread go to: the thread's most recent test
/// meter if any, else the global pipeline. `None` before [`crate::init`].
///
/// Without the `instrument` feature there is never a current pipeline: every recording is a
/// no-op.
/// During thread-local teardown (a future dropped by a thread-local's destructor) the thread's
/// test meters are gone: the global pipeline is current.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Arc<Pipeline>>) -> R) -> R {
    if cfg!(not(feature = "instrument")) {
        return f(None);
    }
    if !may_be_overridden() {
        return f(GLOBAL.get());
    }
    let mut f = Some(f);
    let mut call = |p: Option<&Arc<Pipeline>>| (f.take().expect("called once"))(p);
    match OVERRIDE.try_with(|o| match o.try_borrow() {
        Ok(stack) => call(stack.last().or_else(|| GLOBAL.get())),
        Err(_) => call(GLOBAL.get()),
    }) {
        Ok(r) => r,
        Err(_) => call(GLOBAL.get()),
    }
}

/// A handle on a pipeline that a guard keeps until it records its end: the global pipeline by
/// reference (it lives as long as the process, so no reference count is touched), a test
/// meter's by `Arc`.
#[derive(Debug, Clone)]
pub(crate) enum PipelineRef {
    Global(&'static Pipeline),
    Local(Arc<Pipeline>),
}

impl std::ops::Deref for PipelineRef {
    type Target = Pipeline;

    fn deref(&self) -> &Pipeline {
        match self {
            PipelineRef::Global(p) => p,
            PipelineRef::Local(p) => p,
        }
    }
}

/// The global pipeline when it is current on every thread (no test meter anywhere): the hot
/// paths' one check, a relaxed load and the global's pointer.
#[inline]
pub(crate) fn only_global() -> Option<&'static Pipeline> {
    if cfg!(not(feature = "instrument")) || may_be_overridden() {
        return None;
    }
    GLOBAL.get().map(|p| &**p)
}

/// The current pipeline, as a handle for guards that must record into the pipeline they
/// started in.
pub(crate) fn current() -> Option<PipelineRef> {
    if cfg!(not(feature = "instrument")) {
        return None;
    }
    if !may_be_overridden() {
        return GLOBAL.get().map(|p| PipelineRef::Global(p));
    }
    let local = OVERRIDE
        .try_with(|o| o.try_borrow().ok().and_then(|o| o.last().cloned()))
        .ok()
        .flatten();
    match local {
        Some(p) => Some(PipelineRef::Local(p)),
        None => GLOBAL.get().map(|p| PipelineRef::Global(p)),
    }
}

/// Records into the current pipeline, or keeps the measurement until [`crate::init`].
pub(crate) fn record(metric: Metric, value: Measurement, attrs: &[KeyValue]) {
    with_current(|p| match p {
        Some(p) => p.record(metric, value, attrs),
        None => pending::record(metric, value, attrs),
    })
}

/// Makes `pipeline` this thread's current one (a test meter, or a scoped future's poll).
pub(crate) fn push_override(pipeline: &Arc<Pipeline>) {
    let _ = OVERRIDE.try_with(|o| {
        if let Ok(mut stack) = o.try_borrow_mut() {
            OVERRIDES.fetch_add(1, Ordering::Relaxed);
            stack.push(Arc::clone(pipeline));
        }
    });
}

/// Takes the most recent entry of `pipeline` off this thread's stack, wherever it is: a meter
/// dropped out of creation order leaves the others as they were.
pub(crate) fn remove_override(pipeline: &Arc<Pipeline>) {
    let _ = OVERRIDE.try_with(|o| {
        if let Ok(mut stack) = o.try_borrow_mut() {
            if let Some(i) = stack.iter().rposition(|p| Arc::ptr_eq(p, pipeline)) {
                stack.remove(i);
                OVERRIDES.fetch_sub(1, Ordering::Relaxed);
            }
        }
    });
}
