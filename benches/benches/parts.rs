//! Costs of the pieces of the recording path, to see where the time goes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::SdkMeterProvider;

fn parts(c: &mut Criterion) {
    let provider = SdkMeterProvider::builder()
        .with_reader(opentelemetry_sdk::metrics::ManualReader::builder().build())
        .build();
    let meter = provider.meter("parts");
    let counter = meter.u64_counter("c").build();
    let histogram = meter
        .f64_histogram("h")
        .with_boundaries(vec![0.1, 0.5, 1.0, 2.0, 5.0, 10.0])
        .build();
    let attrs = [
        KeyValue::new("server_name", "github"),
        KeyValue::new("tool_name", "x"),
    ];
    let bc = counter.bind(&attrs);
    let bh = histogram.bind(&attrs);
    let mut g = c.benchmark_group("parts");
    g.bench_function("std_instant_now", |b| b.iter(std::time::Instant::now));
    g.bench_function("tokio_instant_now", |b| b.iter(tokio::time::Instant::now));
    let tsc = quanta::Clock::new();
    g.bench_function("tsc_clock_raw", |b| b.iter(|| tsc.raw()));
    g.bench_function("bound_counter_add", |b| b.iter(|| bc.add(black_box(1))));
    g.bench_function("bound_histogram_record", |b| {
        b.iter(|| bh.record(black_box(0.01)))
    });
    g.bench_function("unbound_counter_add_static_attrs", |b| {
        b.iter(|| counter.add(1, &attrs))
    });
    let (s1, s2) = (String::from("github"), String::from("x"));
    g.bench_function("unbound_counter_add_owned_attrs", |b| {
        b.iter(|| {
            counter.add(
                1,
                &[
                    KeyValue::new("server_name", s1.clone()),
                    KeyValue::new("tool_name", s2.clone()),
                ],
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = parts
}
criterion_main!(benches);
