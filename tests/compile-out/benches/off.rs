//! Compile-out overhead: a bare function against the same function under `#[tool_call]` without
//! the `instrument` feature, in one run. Run with
//! `cargo bench --manifest-path tests/compile-out/Cargo.toml`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use mcp_gateway_metrics::tool_call;

#[inline(never)]
fn body(server_name: &str, tool_name: &str) -> Result<usize, ()> {
    Ok(black_box(server_name.len() + tool_name.len()))
}

#[inline(never)]
fn bare(server_name: &str, tool_name: &str) -> Result<usize, ()> {
    body(server_name, tool_name)
}

#[inline(never)]
#[tool_call]
fn compiled_out(server_name: &str, tool_name: &str) -> Result<usize, ()> {
    body(server_name, tool_name)
}

fn off(c: &mut Criterion) {
    let mut group = c.benchmark_group("tool_call_off");
    group.bench_function("bare", |b| {
        b.iter(|| bare(black_box("github"), black_box("search")))
    });
    group.bench_function("macro_compiled_out", |b| {
        b.iter(|| compiled_out(black_box("github"), black_box("search")))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = off
}
criterion_main!(benches);
