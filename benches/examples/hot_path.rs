//! The recording path alone, for instruction counts: `init()`, then `N` calls of one
//! `#[tool_call]` function (success, or with `--error` the error path).
//!
//! ```sh
//! cargo build --release -p benches --example hot_path
//! valgrind --tool=callgrind target/release/examples/hot_path 100000
//! callgrind_annotate --inclusive=yes callgrind.out.*
//! ```
//!
//! Instruction counts are repeatable on a noisy machine where wall-clock benchmarks are not;
//! divide by `N` for a call's share (initialisation is a fixed cost, visible on its own).

use std::hint::black_box;

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
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--error" => fail = true,
            n => match n.parse() {
                Ok(n) => calls = n,
                Err(_) => {
                    eprintln!("usage: hot_path [CALLS] [--error]");
                    std::process::exit(2);
                }
            },
        }
    }
    let _pipeline = mcp_gateway_metrics::Config::builder()
        .prometheus_address("127.0.0.1:0")
        .install()
        .expect("the pipeline starts");
    for _ in 0..calls {
        let _ = black_box(instrumented(black_box("github"), black_box("search"), fail));
    }
}
