//! The request context as the recording hot path reads it: a pointer to the current
//! context's project id, kept next to the context itself. Stressed here on the global pipeline
//! (no test meter, so every call takes that path): contexts entered, nested, left out of
//! order, created and freed on every iteration (so that a stale pointer would read another
//! context's bytes), carried across threads by a multi-threaded runtime, and torn down with
//! the thread while another thread-local still records. Every call must be counted under
//! exactly the project that was current.

use std::cell::RefCell;
use std::collections::BTreeMap;

use mcp_gateway_metrics::catalog::Metric;
use mcp_gateway_metrics::{read, tool_call, RequestContext};

#[tool_call(server = "stress", tool = "call")]
fn call() -> u32 {
    1
}

#[tool_call(server = "stress", tool = "call")]
async fn call_async() -> u32 {
    tokio::task::yield_now().await;
    1
}

/// Counts each call by the project expected for it.
#[derive(Default)]
struct Expected(BTreeMap<String, u64>);

impl Expected {
    fn call(&mut self, project: &str) {
        call();
        *self.0.entry(project.to_owned()).or_default() += 1;
    }

    fn merge(&mut self, other: Expected) {
        for (project, n) in other.0 {
            *self.0.entry(project).or_default() += n;
        }
    }
}

/// One thread's turns: fresh contexts every iteration (their project ids allocated anew, the
/// previous ones freed), nested, and left in and out of order.
fn turns(thread: usize, iterations: usize) -> Expected {
    let mut expected = Expected::default();
    let base_project = format!("t{thread}-base");
    for i in 0..iterations {
        let outer = format!("t{thread}-{}", i % 3);
        let inner = format!("t{thread}-inner-{}-with-a-long-tail", i % 2);
        expected.call("unknown");
        // Kept alive past their guards: a stale pointer to them would read a project that
        // exists and be counted under it, not miss.
        let base_context = RequestContext::new(base_project.clone());
        let outer_context = RequestContext::new(outer.clone());
        let base = base_context.clone().enter();
        expected.call(&base_project);
        let a = outer_context.clone().enter();
        expected.call(&outer);
        let b = RequestContext::new(inner.clone()).enter();
        expected.call(&inner);
        if i % 2 == 0 {
            drop(b);
            expected.call(&outer);
            drop(a);
            expected.call(&base_project);
        } else {
            // Out of order: leaving the outer context first restores the base; leaving the
            // inner one then restores the outer one, kept alive by the inner guard alone.
            drop(a);
            expected.call(&base_project);
            drop(b);
            expected.call(&outer);
        }
        // Leaving the base makes none current, whatever was current meanwhile.
        drop(base);
        expected.call("unknown");
        drop((base_context, outer_context));
    }
    expected.call("unknown");
    expected
}

thread_local! {
    /// Records from its destructor, which runs after the request context's (it was
    /// registered first, and thread-local destructors run last registered first).
    static LATE: RefCell<Option<LateCall>> = const { RefCell::new(None) };
}

struct LateCall;

impl Drop for LateCall {
    fn drop(&mut self) {
        call();
    }
}

#[test]
fn every_call_is_counted_under_the_project_current_for_it() {
    let _metrics = mcp_gateway_metrics::Config::builder()
        .label_value_budget(1000)
        .install()
        .expect("the pipeline installs");
    let mut expected = Expected::default();

    std::thread::scope(|s| {
        let threads: Vec<_> = (0..4).map(|t| s.spawn(move || turns(t, 300))).collect();
        for thread in threads {
            expected.merge(thread.join().expect("the thread runs"));
        }
    });

    // Across a runtime's worker threads: the context follows each poll.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let project = format!("task-{t}");
                tokio::spawn(RequestContext::new(project).scope(async {
                    for _ in 0..50 {
                        call_async().await;
                    }
                }))
            })
            .collect();
        for task in tasks {
            task.await.expect("the task runs");
        }
    });
    for t in 0..8 {
        *expected.0.entry(format!("task-{t}")).or_default() += 50;
    }

    // A context left current when its thread ends, and a call from a destructor that runs
    // after the context's: that call has no context.
    std::thread::spawn(|| {
        LATE.with(|late| *late.borrow_mut() = Some(LateCall));
        std::mem::forget(RequestContext::new("left-current").enter());
        call();
    })
    .join()
    .expect("the thread ends");
    expected.call_counted_elsewhere("left-current", 1);
    expected.call_counted_elsewhere("unknown", 1);

    let now = read::snapshot().expect("the Prometheus exporter is on");
    let label = |s: &read::Series, key: &str| {
        s.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let recorded: BTreeMap<String, u64> = now
        .series(Metric::ToolCalls)
        .into_iter()
        .filter(|s| label(s, "server_name") == "stress")
        .map(|s| (label(&s, "project_id"), s.value as u64))
        .collect();
    assert_eq!(recorded, expected.0);
}

impl Expected {
    /// A call made where `Expected` could not be reached (another thread, a destructor).
    fn call_counted_elsewhere(&mut self, project: &str, n: u64) {
        *self.0.entry(project.to_owned()).or_default() += n;
    }
}
