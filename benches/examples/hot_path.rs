//! The recording path alone, for instruction counts: `init()`, then `N` calls of one
//! `#[tool_call]` function (success, or with `--error` the error path), with one label set, or
//! with `--labels N` that many tool names cycling; with `--threads N`, on that many threads
//! at once. Prints the slowest thread's time per call (for timings that alternate builds).
//!
//! ```sh
//! cargo build --release -p benches --example hot_path
//! valgrind --tool=callgrind target/release/examples/hot_path 100000
//! callgrind_annotate --inclusive=yes callgrind.out.*
//! ```
//!
//! Where many label sets miss the cache, simulating this machine's 512 KiB L2 as the last level:
//!
//! ```sh
//! valgrind --tool=cachegrind --cache-sim=yes --LL=524288,8,64 \
//!     target/release/examples/hot_path 100000 --labels 1000
//! cg_annotate cachegrind.out.*
//! ```
//!
//! Instruction counts are repeatable on a noisy machine where wall-clock benchmarks are not;
//! divide by `N` for a call's share (initialisation is a fixed cost, visible on its own).

use std::hint::black_box;
use std::time::{Duration, Instant};

use mcp_gateway_metrics::{tool_call, ErrorType};

#[derive(Debug, ErrorType)]
enum Error {
    UpstreamUnavailable,
}

#[inline(never)]
fn body(server_name: &str, tool_name: &str, fail: bool) -> Result<usize, Error> {
    if fail {
        return Err(Error::UpstreamUnavailable);
    }
    Ok(black_box(server_name.len() + tool_name.len()))
}

#[inline(never)]
#[tool_call]
fn instrumented(server_name: &str, tool_name: &str, fail: bool) -> Result<usize, Error> {
    body(server_name, tool_name, fail)
}

fn main() {
    let mut calls: u32 = 100_000;
    let mut fail = false;
    let mut labels = 1usize;
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--error" => fail = true,
            "--labels" => labels = positive(args.next(), "--labels", "label sets"),
            "--threads" => threads = positive(args.next(), "--threads", "threads"),
            n => match n.parse() {
                Ok(n) => calls = n,
                Err(_) => {
                    eprintln!("usage: hot_path [CALLS] [--error] [--labels N] [--threads N]");
                    std::process::exit(2);
                }
            },
        }
    }
    let _pipeline = mcp_gateway_metrics::Config::builder()
        .prometheus_address("127.0.0.1:0")
        .install()
        .expect("the pipeline starts");
    let tools: Vec<String> = (0..labels).map(|i| format!("tool_{i}")).collect();
    let run = || {
        let started = Instant::now();
        for i in 0..calls as usize {
            let tool = &tools[i % labels];
            let _ = black_box(instrumented(black_box("github"), black_box(tool), fail));
        }
        started.elapsed()
    };
    // Every thread makes `calls` calls at once; the slowest one's time per call.
    let slowest = std::thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|_| s.spawn(run)).collect();
        let mine = run();
        others
            .into_iter()
            .map(|t| t.join().expect("a thread runs"))
            .fold(mine, Duration::max)
    });
    println!(
        "{:.1} ns per call per thread ({threads} threads)",
        slowest.as_nanos() as f64 / f64::from(calls.max(1))
    );
}

fn positive(arg: Option<String>, flag: &str, what: &str) -> usize {
    match arg.and_then(|n| n.parse().ok()) {
        Some(n) if n > 0 => n,
        _ => {
            eprintln!("{flag} takes a positive number of {what}");
            std::process::exit(2);
        }
    }
}
