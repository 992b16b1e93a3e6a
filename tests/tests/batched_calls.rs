//! The global pipeline's tool calls reach the SDK in per-thread batches: every collection must
//! still see every finished call exactly once, whether its thread is still running, has
//! exited, or records from a thread-local destructor after its batch is gone; and no
//! collection may see an outcome without its call. This binary installs the global pipeline
//! and never creates a `TestMeter`, so every call here is batched.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mcp_gateway_metrics::catalog::Metric;
use mcp_gateway_metrics::read::{self, Snapshot};
use mcp_gateway_metrics::{tool_call, ErrorType};

#[derive(Debug, Clone, Copy, ErrorType)]
enum Failed {
    Upstream,
    Denied,
    Invalid,
}

/// Succeeds for `outcome` 0, fails with one of three error types for 1 to 3.
#[tool_call]
fn call(server_name: &str, tool_name: &str, outcome: usize) -> Result<(), Failed> {
    match outcome {
        1 => Err(Failed::Upstream),
        2 => Err(Failed::Denied),
        3 => Err(Failed::Invalid),
        _ => Ok(()),
    }
}

fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let guard = mcp_gateway_metrics::Config::builder()
            .serve_prometheus(false)
            .install()
            .expect("the pipeline installs");
        std::mem::forget(guard);
    });
}

fn snapshot() -> Snapshot {
    read::snapshot().expect("the Prometheus exporter is on")
}

/// Calls, successes, failures and durations counted at `server`, all tools together.
fn totals(now: &Snapshot, server: &str) -> [u64; 4] {
    let labels = [("server_name", server)];
    [
        now.counter(Metric::ToolCalls, &labels),
        now.counter(Metric::ToolCallSuccess, &labels),
        now.counter(Metric::ToolCallFailure, &labels),
        now.histogram(Metric::ToolCallDuration, &labels).count,
    ]
}

/// Makes `n` calls at `server` over `tools` tools, the outcome cycling through success and
/// three error types; returns [calls, successes, failures, durations] as `totals` counts them.
fn make_calls(server: &str, tools: &[String], n: usize) -> [u64; 4] {
    let mut successes = 0;
    for i in 0..n {
        let outcome = (i / tools.len()) % 4;
        let _ = call(server, &tools[i % tools.len()], outcome);
        successes += u64::from(outcome == 0);
    }
    let n = n as u64;
    [n, successes, n - successes, n]
}

fn tools(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("tool_{i}")).collect()
}

#[test]
fn a_collection_sees_the_calls_of_a_thread_that_is_still_running() {
    install();
    let (done, calls_made) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    // Fewer calls than a batch holds, so none reached the SDK from the calling thread.
    let worker = thread::spawn(move || {
        let expected = make_calls("running", &tools(3), 50);
        done.send(expected).expect("the test waits");
        released.recv_timeout(Duration::from_secs(30)).ok();
    });
    let expected = calls_made
        .recv_timeout(Duration::from_secs(30))
        .expect("the worker makes its calls");
    assert_eq!(totals(&snapshot(), "running"), expected);
    release.send(()).expect("the worker waits");
    worker.join().expect("the worker ends");
    // Read again: nothing counted twice when the thread's batch goes at its exit.
    assert_eq!(totals(&snapshot(), "running"), expected);
}

#[test]
fn every_call_counts_once_however_batches_are_drained() {
    install();
    // More label sets than a drain adds up at once, more calls than a batch holds.
    let tools = tools(12);
    const ROUND: usize = 1_000;
    let stop = AtomicBool::new(false);
    // Calls until the reader has collected often enough (bounded in rounds and time).
    let worker = || {
        let mut made = [0; 4];
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut rounds = 0;
        while !stop.load(Ordering::Relaxed) && rounds < 2_000 && Instant::now() < deadline {
            let round = make_calls("concurrent", &tools, ROUND);
            made.iter_mut().zip(round).for_each(|(m, r)| *m += r);
            rounds += 1;
        }
        (made, rounds)
    };
    let (expected, rounds) = thread::scope(|s| {
        let workers: Vec<_> = (0..2).map(|_| s.spawn(worker)).collect();
        // Collections while the workers call (each one claims what the workers' batches
        // hold, racing their own drains): none sees an outcome without its call.
        let deadline = Instant::now() + Duration::from_secs(60);
        for _ in 0..300 {
            let [calls, successes, failures, _] = totals(&snapshot(), "concurrent");
            assert!(
                calls >= successes + failures,
                "a collection saw {successes} successes and {failures} failures of only {calls} calls"
            );
            if Instant::now() > deadline {
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        let mut expected = [0; 4];
        let mut rounds = 0;
        for worker in workers {
            let (made, r) = worker.join().expect("a worker ends");
            expected.iter_mut().zip(made).for_each(|(e, m)| *e += m);
            rounds += r;
        }
        (expected, rounds)
    });
    assert_eq!(totals(&snapshot(), "concurrent"), expected);
    let upstream = snapshot().counter(
        Metric::ToolCallFailure,
        &[("server_name", "concurrent"), ("error_type", "upstream")],
    );
    let upstream_per_round = (0..ROUND).filter(|i| (i / 12) % 4 == 1).count() as u64;
    assert_eq!(upstream, rounds * upstream_per_round);
}

/// Makes calls when its thread's thread-locals are torn down.
struct CallsOnExit;

impl Drop for CallsOnExit {
    fn drop(&mut self) {
        make_calls("teardown", &tools(2), 7);
    }
}

thread_local! {
    static CALLS_ON_EXIT: CallsOnExit = const { CallsOnExit };
}

#[test]
fn calls_made_after_a_thread_s_batch_is_gone_still_count() {
    install();
    thread::spawn(|| {
        // Registered before the thread's batch (its first call), so torn down after it.
        CALLS_ON_EXIT.with(|_| ());
        make_calls("teardown", &tools(2), 100);
    })
    .join()
    .expect("the thread ends");
    assert_eq!(totals(&snapshot(), "teardown")[0], 107);
    assert_eq!(totals(&snapshot(), "teardown")[3], 107);
}
