//! An isolated, in-memory test meter that returns typed values.
//!
//! [`TestMeter::new`] builds a pipeline of its own (a real `SdkMeterProvider` with an in-memory
//! reader and, with the `prometheus` feature, a Prometheus registry) and routes the current
//! thread's recordings to it until it is dropped. Tests running in parallel on other threads
//! do not see each other's values. For a future that may move between threads (a
//! multi-threaded tokio runtime), wrap it in [`TestMeter::scope`].
//!
//! Calls recorded in a test meter are timed on tokio's clock (a live pipeline reads the CPU's
//! time-stamp counter), so under `#[tokio::test(start_paused = true)]` their durations are
//! exactly the time the test advanced.
//!
//! ```
//! use mcp_gateway_metrics::{record, testing::TestMeter, CacheType};
//!
//! let meter = TestMeter::new();
//! record::cache_hit(CacheType::Tools);
//! record::cache_hit(CacheType::Tools);
//! assert_eq!(meter.counter("enkrypt_cache_hits_total", &[("cache_type", "tools")]), 2);
//! ```

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::ManualReader;

use crate::catalog::{Metric, MetricKind};
use crate::config::{Config, ConfigBuilder};
use crate::error::ConfigError;
use crate::extensions::SharedReader;
use crate::init::build_pipeline;
use crate::labels::{CacheType, Direction, OperationType, OutputCheck};
use crate::pipeline::{self, Pipeline};
use crate::record::{Outcome, TimeoutOperation, TimeoutOutcome, ToolCallLabels};

pub use crate::read::{HistogramSnapshot, Series, Snapshot};

/// An isolated pipeline that the current thread records into while it lives.
#[derive(Debug)]
pub struct TestMeter {
    pipeline: Arc<Pipeline>,
    reader: Arc<ManualReader>,
    // Installed on this thread: it must be dropped here too.
    _not_send: PhantomData<*const ()>,
}

impl Default for TestMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl TestMeter {
    /// A test meter with the default configuration, ignoring the process environment.
    pub fn new() -> Self {
        Self::with_config(Config::builder()).expect("the default configuration is valid")
    }

    /// A test meter with the given settings (bucket overrides, dropped labels, cardinality
    /// limit, operation timeouts), validated against an empty environment. Exporters are
    /// not started: the values stay in memory.
    ///
    /// # Panics
    /// Without the `instrument` feature: nothing would be recorded, and every read would be 0.
    pub fn with_config(builder: ConfigBuilder) -> Result<Self, ConfigError> {
        if cfg!(not(feature = "instrument")) {
            panic!(
                "TestMeter needs the `instrument` feature of mcp-gateway-metrics: it is compiled \
             out in this build, so nothing is recorded and every read would be 0"
            );
        }
        let mut config = builder
            .serve_prometheus(false)
            .prometheus(cfg!(feature = "prometheus"))
            .build_with_env(|_| None)?;
        config.otlp = None;
        let reader = Arc::new(ManualReader::builder().build());
        let shared = SharedReader(Arc::clone(&reader) as Arc<dyn MetricReader>);
        let (pipeline, _) = build_pipeline(&config, Some(shared))
            .expect("a test configuration has no exporter that can fail");
        let pipeline = Arc::new(pipeline);
        pipeline::push_override(&pipeline);
        Ok(TestMeter {
            pipeline,
            reader,
            _not_send: PhantomData,
        })
    }

    /// Runs `future` with its recordings routed to this meter, on whatever thread polls it.
    ///
    /// Whatever thread polls it, or drops it unfinished, records into this meter.
    pub fn scope<F: Future>(&self, future: F) -> Scoped<F> {
        Scoped {
            pipeline: Arc::clone(&self.pipeline),
            future: Some(Box::pin(future)),
        }
    }

    /// The sum of a counter over the series whose labels include all of `labels`
    /// (0 when none match).
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.snapshot()
            .counter(expect_kind(name, MetricKind::Counter), labels)
    }

    /// The sum of an up-down counter (gauge) over the matching series.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> i64 {
        self.snapshot()
            .gauge(expect_kind(name, MetricKind::UpDownCounter), labels)
    }

    /// A histogram summed over the matching series.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> HistogramSnapshot {
        self.snapshot()
            .histogram(expect_kind(name, MetricKind::Histogram), labels)
    }

    /// Every series of a metric, with its labels.
    pub fn series(&self, name: &str) -> Vec<Series> {
        match Metric::from_name(name) {
            Some(metric) => self.snapshot().series(metric),
            None => panic!("no metric of the catalog is named {name:?}"),
        }
    }

    /// Everything this meter holds now, for typed reads by [`Metric`].
    pub fn snapshot(&self) -> Snapshot {
        let mut rm = ResourceMetrics::default();
        self.reader
            .collect(&mut rm)
            .expect("the test meter's reader collects while the meter lives");
        Snapshot::from_resource_metrics(&rm)
    }

    /// The Prometheus text exposition of this meter, exactly as `/metrics` would serve it.
    #[cfg(feature = "prometheus")]
    pub fn render(&self) -> String {
        crate::exporters::prometheus::render_pipeline(&self.pipeline)
    }
}

/// The metric named `name`, which must be of `kind`: a test that asks for the wrong one
/// fails with a message saying which method to use.
fn expect_kind(name: &str, kind: MetricKind) -> Metric {
    match Metric::from_name(name) {
        Some(m) if m.def().kind == kind => m,
        Some(m) => panic!(
            "{name} is a {:?}, not a {kind:?}: use the matching TestMeter method",
            m.def().kind
        ),
        None => panic!("no metric of the catalog is named {name:?}"),
    }
}

impl Drop for TestMeter {
    fn drop(&mut self) {
        pipeline::remove_override(&self.pipeline);
        let _ = self.pipeline.provider().shutdown();
    }
}

/// A future whose recordings go to a [`TestMeter`], on whichever thread polls it.
#[derive(Debug)]
pub struct Scoped<F> {
    pipeline: Arc<Pipeline>,
    /// `None` once dropped.
    future: Option<Pin<Box<F>>>,
}

/// Current while it lives: pushed on the thread's stack, taken off on drop (also when the
/// poll panics).
struct Current<'a>(&'a Arc<Pipeline>);

impl<'a> Current<'a> {
    fn enter(pipeline: &'a Arc<Pipeline>) -> Self {
        pipeline::push_override(pipeline);
        Current(pipeline)
    }
}

impl Drop for Current<'_> {
    fn drop(&mut self) {
        pipeline::remove_override(self.0);
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _current = Current::enter(&this.pipeline);
        match this.future.as_mut() {
            Some(future) => future.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

impl<F> Drop for Scoped<F> {
    fn drop(&mut self) {
        // An unfinished future's guards record their end (a cancellation) into this meter.
        let _current = Current::enter(&self.pipeline);
        drop(self.future.take());
    }
}

/// Records a little of every one of the 32 metric families into the current pipeline, with
/// plausible labels: a success, a failure, a crash and a blocked tool call, discovery, cache
/// hit and miss, input and output violations, the three output checks, PII, a guardrail API
/// request, auth success and failure, and one timeout operation per outcome and escalation
/// level. Sessions and users are left to the caller, who
/// decides how long they stay active.
///
/// Useful to check an exporter, a dashboard or an alert rule end to end.
///
/// ```
/// use mcp_gateway_metrics::{catalog::CATALOG, testing::{record_every_family, TestMeter}};
/// let meter = TestMeter::new();
/// record_every_family();
/// let text = meter.render();
/// for def in CATALOG.iter().filter(|d| !d.labels.is_empty()) {
///     assert!(text.contains(&format!("# TYPE {} ", def.name)), "{}", def.name);
/// }
/// ```
pub fn record_every_family() {
    let github = ToolCallLabels {
        server_name: "github",
        tool_name: "create_issue",
        project_id: "demo-project",
    };
    crate::record::tool_call(&github, Outcome::Success, Duration::from_millis(180));
    crate::record::tool_call(
        &github,
        Outcome::Failure {
            error_type: "upstream_error",
        },
        Duration::from_millis(900),
    );
    crate::record::tool_call(
        &github,
        Outcome::Crash {
            error_type: "panic",
        },
        Duration::from_millis(40),
    );
    crate::record::tool_call(
        &github,
        Outcome::Blocked {
            reason: "injection_attack",
        },
        Duration::from_millis(15),
    );

    crate::record::list_all_servers("demo-user", "demo-project");
    crate::record::servers_discovered("demo-config", 3);
    crate::record::cache_hit(CacheType::Tools);
    crate::record::cache_miss(CacheType::ServerConfig);

    crate::record::guardrail_violation(
        Direction::Input,
        "injection_attack",
        "github",
        "injection_detector",
    );
    crate::record::guardrail_violation(
        Direction::Output,
        "toxicity",
        "github",
        "toxicity_detector",
    );
    for check in OutputCheck::ALL {
        crate::record::output_check_violation(*check, "github", "create_issue");
    }
    crate::record::pii_redactions("github", "email", 2);
    crate::record::guardrail_api_request(
        "/guardrails/policy/detect",
        200,
        Duration::from_millis(120),
    );

    crate::record::auth_success("api_key", "demo-project");
    crate::record::auth_failure("api_key", "invalid_key");

    // The timeout manager: one of each outcome and escalation level, with exact durations,
    // plus one live operation dropped before it finished (cancelled).
    let second = Duration::from_secs(1);
    let timed = |op, elapsed_ms, outcome| {
        crate::record::timeout_operation(op, second, Duration::from_millis(elapsed_ms), outcome)
    };
    timed(OperationType::Guardrail, 120, TimeoutOutcome::Completed); // normal
    timed(OperationType::ToolExecution, 850, TimeoutOutcome::Completed); // warn
    timed(OperationType::Discovery, 1000, TimeoutOutcome::TimedOut); // timeout
    timed(OperationType::Cache, 1300, TimeoutOutcome::Completed); // observed overrun: fail
    drop(TimeoutOperation::start(OperationType::Auth, None)); // dropped: cancelled
}
