//! The cost of instrumentation, compared in one run:
//!
//! - `tool_call/bare`: the function alone;
//! - `tool_call/macro`: the same with `#[tool_call]`, server and tool labels from arguments;
//! - `tool_call/hand_written_otel`: the same body with hand-written OpenTelemetry code that
//!   records the same three instruments with the same attributes;
//! - `timeout/macro` vs `timeout/tokio_timeout`: `#[timeout_op]` on an async fn against a bare
//!   `tokio::time::timeout` around the same body.
//!
//! Run with `cargo bench -p benches`. With `--features tracing` the runtime's spans are
//! compiled in, and `tool_call/macro_recording_spans` runs the macro under a subscriber that
//! records every span (`tracing_subscriber::registry()`). The compile-out comparison is in
//! `tests/compile-out/benches/off.rs` (a build with the `off` feature).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use mcp_gateway_metrics::{timeout_op, tool_call, ErrorType, Timeout};
use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::SdkMeterProvider;

#[derive(Debug, ErrorType)]
enum Error {
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

fn tool_call_overhead(c: &mut Criterion) {
    let _metrics = mcp_gateway_metrics::Config::builder()
        .serve_prometheus(false)
        .install()
        .expect("the benchmark's pipeline installs");
    let provider = SdkMeterProvider::builder()
        .with_reader(opentelemetry_sdk::metrics::ManualReader::builder().build())
        .build();
    let hand = HandWritten::new(&provider);

    let mut group = c.benchmark_group("tool_call");
    let mut i = 0usize;
    let mut next = || {
        i = (i + 1) % LABELS.len();
        LABELS[i]
    };
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
