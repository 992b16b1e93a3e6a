//! The cost of instrumentation, compared in one run (`cargo bench -p benches --bench overhead`):
//!
//! - `tool_call/floor`: what any instrumentation must at least do, a clock pair around the
//!   body and three relaxed atomic adds (calls, success, a histogram bucket);
//! - `tool_call/sdk_floor`: what any instrumentation through the OpenTelemetry SDK must at least
//!   do, the macro's clock pair and the same three records on handles bound in advance;
//! - `tool_call/bare`: the function alone;
//! - `tool_call/macro`: `#[tool_call]`, success, server and tool labels from arguments;
//! - `tool_call/macro_error`: the same call returning an error (`error_type` from the
//!   derived `ErrorType`);
//! - `tool_call/labels_1000` and `labels_10000`: the macro with that many distinct tool names
//!   cycling; `sdk_floor_labels_1000`: the SDK floor with as many label sets, bound in advance;
//! - `tool_call/two_threads`: the macro on two threads at once with the same labels (time per
//!   call per thread); `floor_two_threads`, `sdk_floor_two_threads`,
//!   `hand_written_otel_two_threads` and `prometheus_client_two_threads`: the same contention
//!   for the floors and the peers; `sdk_histogram` and `sdk_histogram_two_threads`: the TSC
//!   pair and the SDK histogram's record alone, on one thread and on two;
//! - `tool_call/hand_written_otel`: the same three instruments and attributes by hand;
//! - `tool_call/metrics_crate`: the `metrics` crate with its Prometheus exporter's recorder;
//! - `tool_call/prometheus_client`: `prometheus-client` families with the same labels;
//! - `timeout/macro` vs `timeout/tokio_timeout`: `#[timeout_op]` on an async fn against a bare
//!   `tokio::time::timeout` around the same body.
//!
//! With `--features tracing` the runtime's spans are compiled in, and
//! `tool_call/macro_recording_spans` runs the macro under a subscriber that records every span.
//! The compile-out comparison is in `tests/compile-out/benches/off.rs`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use mcp_gateway_metrics::{timeout_op, tool_call, ErrorType, Timeout};
use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::SdkMeterProvider;

#[derive(Debug, ErrorType)]
enum Error {
    UpstreamUnavailable,
    #[error_type(transparent)]
    Timeout(Timeout),
}

impl From<Timeout> for Error {
    fn from(t: Timeout) -> Self {
        Error::Timeout(t)
    }
}

/// The work every variant does: small, so that the instrumentation dominates.
#[inline(never)]
fn body(server_name: &str, tool_name: &str) -> Result<usize, Error> {
    Ok(black_box(server_name.len() + tool_name.len()))
}

#[inline(never)]
fn bare(server_name: &str, tool_name: &str) -> Result<usize, Error> {
    body(server_name, tool_name)
}

#[inline(never)]
#[tool_call]
fn instrumented(server_name: &str, tool_name: &str) -> Result<usize, Error> {
    body(server_name, tool_name)
}

#[inline(never)]
#[tool_call]
fn failing(server_name: &str, tool_name: &str) -> Result<usize, Error> {
    body(server_name, tool_name)?;
    Err(Error::UpstreamUnavailable)
}

/// The floor: a clock pair and three relaxed atomic adds.
struct Floor([AtomicU64; 3]);

impl Floor {
    #[inline(never)]
    fn call(&self, server_name: &str, tool_name: &str) -> Result<usize, Error> {
        let started = Instant::now();
        let result = body(server_name, tool_name);
        let elapsed = started.elapsed();
        self.0[0].fetch_add(1, Ordering::Relaxed);
        self.0[1].fetch_add(1, Ordering::Relaxed);
        self.0[2].fetch_add(
            black_box(elapsed).subsec_nanos() as u64 & 1,
            Ordering::Relaxed,
        );
        result
    }
}

const BUCKETS: [f64; 6] = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0];

/// The `metrics` crate: the same counters and histogram through its macros.
#[inline(never)]
fn with_metrics_crate(server_name: &'static str, tool_name: &'static str) -> Result<usize, Error> {
    let started = Instant::now();
    let result = body(server_name, tool_name);
    let labels = [("server_name", server_name), ("tool_name", tool_name)];
    metrics::counter!(
        "enkrypt_tool_calls_total",
        &[
            ("server_name", server_name),
            ("tool_name", tool_name),
            ("project_id", "unknown")
        ]
    )
    .increment(1);
    if result.is_ok() {
        metrics::counter!("enkrypt_tool_call_success_total", &labels).increment(1);
    }
    metrics::histogram!("enkrypt_tool_call_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    result
}

type PcLabels = [(&'static str, &'static str); 2];
type PcLabels3 = [(&'static str, &'static str); 3];

/// `prometheus-client`: families of the same instruments.
struct PrometheusClient {
    calls: prometheus_client::metrics::family::Family<
        PcLabels3,
        prometheus_client::metrics::counter::Counter,
    >,
    success: prometheus_client::metrics::family::Family<
        PcLabels,
        prometheus_client::metrics::counter::Counter,
    >,
    duration: prometheus_client::metrics::family::Family<
        PcLabels,
        prometheus_client::metrics::histogram::Histogram,
        fn() -> prometheus_client::metrics::histogram::Histogram,
    >,
}

impl PrometheusClient {
    fn new() -> Self {
        fn histogram() -> prometheus_client::metrics::histogram::Histogram {
            prometheus_client::metrics::histogram::Histogram::new(BUCKETS)
        }
        let mut registry = prometheus_client::registry::Registry::default();
        let client = PrometheusClient {
            calls: Default::default(),
            success: Default::default(),
            duration: prometheus_client::metrics::family::Family::new_with_constructor(histogram),
        };
        registry.register("enkrypt_tool_calls", "calls", client.calls.clone());
        registry.register(
            "enkrypt_tool_call_success",
            "success",
            client.success.clone(),
        );
        registry.register(
            "enkrypt_tool_call_duration_seconds",
            "duration",
            client.duration.clone(),
        );
        client
    }

    #[inline(never)]
    fn call(&self, server_name: &'static str, tool_name: &'static str) -> Result<usize, Error> {
        let started = Instant::now();
        let result = body(server_name, tool_name);
        let labels = [("server_name", server_name), ("tool_name", tool_name)];
        self.calls
            .get_or_create(&[labels[0], labels[1], ("project_id", "unknown")])
            .inc();
        if result.is_ok() {
            self.success.get_or_create(&labels).inc();
        }
        self.duration
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        result
    }
}

/// The least any instrumentation through the OpenTelemetry SDK costs: the clock pair the macro
/// reads (the time-stamp counter) and the same three records on handles bound in advance, with
/// no label lookup and no outcome handling. One set of handles per label set.
struct SdkFloor {
    clock: quanta::Clock,
    handles: Vec<SdkHandles>,
}

struct SdkHandles {
    calls: opentelemetry::metrics::BoundCounter<u64>,
    success: opentelemetry::metrics::BoundCounter<u64>,
    duration: opentelemetry::metrics::BoundHistogram<f64>,
}

impl SdkFloor {
    fn new(provider: &SdkMeterProvider, tools: &[&str]) -> Self {
        let meter = provider.meter("sdk-floor");
        let calls = meter.u64_counter("enkrypt_tool_calls_total").build();
        let success = meter.u64_counter("enkrypt_tool_call_success_total").build();
        let duration = meter
            .f64_histogram("enkrypt_tool_call_duration_seconds")
            .with_boundaries(BUCKETS.to_vec())
            .build();
        let handles = tools
            .iter()
            .map(|tool| {
                let server = KeyValue::new("server_name", "github");
                let tool = KeyValue::new("tool_name", tool.to_string());
                let project = KeyValue::new("project_id", "unknown");
                SdkHandles {
                    calls: calls.bind(&[server.clone(), tool.clone(), project]),
                    success: success.bind(&[server.clone(), tool.clone()]),
                    duration: duration.bind(&[server, tool]),
                }
            })
            .collect();
        SdkFloor {
            clock: quanta::Clock::new(),
            handles,
        }
    }

    /// A call whose duration alone is recorded (the histogram, with its per-series lock).
    #[inline(never)]
    fn histogram_only(&self, server_name: &str, tool_name: &str) -> Result<usize, Error> {
        let started = self.clock.raw();
        let result = body(server_name, tool_name);
        let elapsed = self.clock.delta(started, self.clock.raw());
        self.handles[0].duration.record(elapsed.as_secs_f64());
        result
    }

    /// A call recorded with the `label_set`th handles.
    #[inline(never)]
    fn call(&self, label_set: usize, server_name: &str, tool_name: &str) -> Result<usize, Error> {
        let started = self.clock.raw();
        let result = body(server_name, tool_name);
        let elapsed = self.clock.delta(started, self.clock.raw());
        let h = &self.handles[label_set];
        h.calls.add(1);
        if result.is_ok() {
            h.success.add(1);
        }
        h.duration.record(elapsed.as_secs_f64());
        result
    }
}

/// What a careful hand-written version records: the same instruments and attributes.
struct HandWritten {
    calls: Counter<u64>,
    success: Counter<u64>,
    duration: Histogram<f64>,
}

impl HandWritten {
    fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("hand-written");
        HandWritten {
            calls: meter.u64_counter("enkrypt_tool_calls_total").build(),
            success: meter.u64_counter("enkrypt_tool_call_success_total").build(),
            duration: meter
                .f64_histogram("enkrypt_tool_call_duration_seconds")
                .with_boundaries(vec![0.1, 0.5, 1.0, 2.0, 5.0, 10.0])
                .build(),
        }
    }

    #[inline(never)]
    fn call(&self, server_name: &str, tool_name: &str, project_id: &str) -> Result<usize, Error> {
        let started = Instant::now();
        let result = body(server_name, tool_name);
        let server = KeyValue::new("server_name", server_name.to_owned());
        let tool = KeyValue::new("tool_name", tool_name.to_owned());
        self.calls.add(
            1,
            &[
                server.clone(),
                tool.clone(),
                KeyValue::new("project_id", project_id.to_owned()),
            ],
        );
        if result.is_ok() {
            self.success.add(1, &[server.clone(), tool.clone()]);
        }
        self.duration
            .record(started.elapsed().as_secs_f64(), &[server, tool]);
        result
    }
}

#[timeout_op(operation = "tool_execution", timeout = "30s")]
async fn with_timeout_op(server_name: &str) -> Result<usize, Error> {
    Ok(black_box(server_name.len()))
}

async fn with_tokio_timeout(server_name: &str) -> Result<usize, Error> {
    match tokio::time::timeout(Duration::from_secs(30), async {
        Ok(black_box(server_name.len()))
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout(Timeout::new(
            mcp_gateway_metrics::OperationType::ToolExecution,
            Duration::from_secs(30),
        ))),
    }
}

const LABELS: [(&str, &str); 4] = [
    ("github", "create_issue"),
    ("github", "search_code"),
    ("jira", "create_ticket"),
    ("slack", "post_message"),
];

/// Benchmarks `call` on two threads at once (see [`on_two_threads`]).
fn two_threads<M: criterion::measurement::Measurement<Value = Duration>>(
    group: &mut criterion::BenchmarkGroup<'_, M>,
    name: &str,
    call: impl Fn() -> Result<usize, Error> + Sync,
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| on_two_threads(iters, &call))
    });
}

/// Runs `call` `iters` times on this thread and on another at once; the slower thread's time.
fn on_two_threads(iters: u64, call: impl Fn() -> Result<usize, Error> + Sync) -> Duration {
    let run = || {
        let started = Instant::now();
        for _ in 0..iters {
            let _ = black_box(call());
        }
        started.elapsed()
    };
    std::thread::scope(|s| {
        let other = s.spawn(run);
        let mine = run();
        mine.max(other.join().expect("the other thread runs"))
    })
}

fn tool_call_overhead(c: &mut Criterion) {
    let _metrics = mcp_gateway_metrics::Config::builder()
        .serve_prometheus(false)
        .install()
        .expect("the benchmark's pipeline installs");
    let provider = SdkMeterProvider::builder()
        .with_reader(opentelemetry_sdk::metrics::ManualReader::builder().build())
        .build();
    let hand = HandWritten::new(&provider);
    let floor = Floor(Default::default());
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .expect("valid buckets")
        .build_recorder();
    let client = PrometheusClient::new();
    // Distinct tool names for the label-set benchmarks (leaked: they live as long as the run).
    let names = |n: usize| -> Vec<&'static str> {
        (0..n)
            .map(|i| &*Box::leak(format!("tool_{i}").into_boxed_str()))
            .collect()
    };
    let (many, more) = (names(1_000), names(10_000));
    let sdk_floor = SdkFloor::new(&provider, &many);

    let mut group = c.benchmark_group("tool_call");
    let mut i = 0usize;
    let mut next = move || {
        i = (i + 1) % LABELS.len();
        LABELS[i]
    };
    group.bench_function("floor", |b| {
        b.iter(|| {
            let (s, t) = next();
            floor.call(black_box(s), black_box(t))
        })
    });
    group.bench_function("sdk_floor", |b| {
        b.iter(|| {
            let (s, t) = next();
            sdk_floor.call(0, black_box(s), black_box(t))
        })
    });
    group.bench_function("bare", |b| {
        b.iter(|| {
            let (s, t) = next();
            bare(black_box(s), black_box(t))
        })
    });
    group.bench_function("macro", |b| {
        b.iter(|| {
            let (s, t) = next();
            instrumented(black_box(s), black_box(t))
        })
    });
    group.bench_function("macro_error", |b| {
        b.iter(|| {
            let (s, t) = next();
            failing(black_box(s), black_box(t))
        })
    });
    for (name, tools) in [("labels_1000", &many), ("labels_10000", &more)] {
        let mut k = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                k = (k + 1) % tools.len();
                instrumented(black_box("github"), black_box(tools[k]))
            })
        });
    }
    let mut k = 0usize;
    group.bench_function("sdk_floor_labels_1000", |b| {
        b.iter(|| {
            k = (k + 1) % many.len();
            sdk_floor.call(k, black_box("github"), black_box(many[k]))
        })
    });
    // The same labels on two threads at once, time per call per thread: the macro, and the
    // floor and the peers under the same contention.
    two_threads(&mut group, "two_threads", || {
        instrumented(black_box("github"), black_box("create_issue"))
    });
    two_threads(&mut group, "floor_two_threads", || {
        floor.call(black_box("github"), black_box("create_issue"))
    });
    two_threads(&mut group, "sdk_floor_two_threads", || {
        sdk_floor.call(0, black_box("github"), black_box("create_issue"))
    });
    // What the SDK's histogram alone costs under the same contention: the bound for any
    // recording that hands each call's duration to the SDK as the call ends.
    group.bench_function("sdk_histogram", |b| {
        b.iter(|| sdk_floor.histogram_only(black_box("github"), black_box("create_issue")))
    });
    two_threads(&mut group, "sdk_histogram_two_threads", || {
        sdk_floor.histogram_only(black_box("github"), black_box("create_issue"))
    });
    two_threads(&mut group, "hand_written_otel_two_threads", || {
        hand.call(black_box("github"), black_box("create_issue"), "unknown")
    });
    two_threads(&mut group, "prometheus_client_two_threads", || {
        client.call(black_box("github"), black_box("create_issue"))
    });
    #[cfg(feature = "tracing")]
    group.bench_function("macro_recording_spans", |b| {
        use tracing_subscriber::util::SubscriberInitExt as _;
        let _subscriber = tracing_subscriber::registry().set_default();
        b.iter(|| {
            let (s, t) = next();
            instrumented(black_box(s), black_box(t))
        })
    });
    group.bench_function("hand_written_otel", |b| {
        b.iter(|| {
            let (s, t) = next();
            hand.call(black_box(s), black_box(t), "unknown")
        })
    });
    group.bench_function("metrics_crate", |b| {
        metrics::with_local_recorder(&recorder, || {
            b.iter(|| {
                let (s, t) = next();
                with_metrics_crate(black_box(s), black_box(t))
            })
        })
    });
    group.bench_function("prometheus_client", |b| {
        b.iter(|| {
            let (s, t) = next();
            client.call(black_box(s), black_box(t))
        })
    });
    group.finish();
}

fn timeout_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let mut group = c.benchmark_group("timeout");
    group.bench_function("tokio_timeout", |b| {
        b.to_async(&runtime)
            .iter(|| with_tokio_timeout(black_box("github")))
    });
    group.bench_function("macro", |b| {
        b.to_async(&runtime)
            .iter(|| with_timeout_op(black_box("github")))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = tool_call_overhead, timeout_overhead
}
criterion_main!(benches);
