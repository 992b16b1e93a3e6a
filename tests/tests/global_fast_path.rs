//! `#[tool_call]` on the global pipeline with no test meter anywhere: the path a service in
//! production takes, where a call whose label set was used lately finds its handles in the
//! front table without the map, and a success records without the general outcome handling.
//! This binary installs the global pipeline and never creates a `TestMeter`, so every call
//! here takes that path when it can; the counts must be exactly those of the general path.

use std::panic::{catch_unwind, AssertUnwindSafe};

use mcp_gateway_metrics::catalog::Metric;
use mcp_gateway_metrics::read::{self, Snapshot};
use mcp_gateway_metrics::{tool_call, RequestContext};
use tests::error_types::SixErrors;
use tests::gateway_fixture::GatewayError;

#[tool_call]
fn call(server_name: &str, tool_name: &str, fail: bool) -> Result<u32, GatewayError> {
    if fail {
        Err(GatewayError::UpstreamUnavailable)
    } else {
        Ok(1)
    }
}

#[tool_call]
fn flaky(server_name: &str, tool_name: &str, error: SixErrors) -> Result<(), SixErrors> {
    Err(error)
}

#[tool_call]
fn crash(server_name: &str, tool_name: &str) -> u32 {
    panic!("{server_name}/{tool_name} crashed")
}

#[tool_call(project = project)]
fn for_project(server_name: &str, tool_name: &str, project: &str) -> Result<u32, GatewayError> {
    Ok(project.len() as u32)
}

fn calls(now: &Snapshot, server: &str, tool: &str) -> u64 {
    now.counter(
        Metric::ToolCalls,
        &[("server_name", server), ("tool_name", tool)],
    )
}

fn success(now: &Snapshot, server: &str, tool: &str) -> u64 {
    now.counter(
        Metric::ToolCallSuccess,
        &[("server_name", server), ("tool_name", tool)],
    )
}

fn failures(now: &Snapshot, server: &str, tool: &str) -> u64 {
    now.counter(
        Metric::ToolCallFailure,
        &[("server_name", server), ("tool_name", tool)],
    )
}

#[test]
fn the_fast_path_counts_exactly_what_the_general_path_would() {
    let _metrics = mcp_gateway_metrics::Config::builder()
        // `unknown`, `p-context`, then three of the flood's project ids.
        .label_value_budget(5)
        .install()
        .expect("the pipeline installs");

    // Values the front table holds whole (up to 16 bytes), and longer ones that differ only
    // past their first and last 8 bytes: each its own label set.
    let long_a = format!("{}A{}", "x".repeat(20), "y".repeat(20));
    let long_b = format!("{}B{}", "x".repeat(20), "y".repeat(20));
    let sixteen = "sixteen-bytes-ok";
    let seventeen = "seventeen-bytes-x";
    let tools = [
        "t",
        "ab",
        "abc",
        sixteen,
        seventeen,
        long_a.as_str(),
        long_b.as_str(),
    ];
    for (i, tool) in tools.iter().enumerate() {
        for _ in 0..(10 + i) {
            call("s1", tool, false).unwrap();
        }
        for _ in 0..i {
            call("s1", tool, true).unwrap_err();
        }
    }
    // The same values on two threads at once.
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..500 {
                    call("s2", "shared", false).unwrap();
                }
            });
        }
    });
    // Six error types at one label set: the first four through counters bound to it.
    for round in 0..3 {
        for (i, (error, _)) in SixErrors::ALL.iter().enumerate() {
            if i <= round + 3 {
                flaky("s7", "flaky", *error).unwrap_err();
            }
        }
    }
    // A crash ends through the guard's drop, after calls on the fast path.
    let crashed = catch_unwind(AssertUnwindSafe(|| crash("s3", "boom")));
    assert!(crashed.is_err());
    call("s3", "boom", false).unwrap();
    // The project from the request context, from an argument, and `unknown` without either.
    {
        let _ctx = RequestContext::new("p-context").enter();
        for _ in 0..3 {
            call("s4", "ctx", false).unwrap();
        }
    }
    for _ in 0..2 {
        call("s4", "ctx", false).unwrap();
    }
    // Past the budget of project ids, further ones are one overflow value, every time.
    for _ in 0..3 {
        for p in ["p1", "p2", "p3", "p4", "p5"] {
            for_project("s5", "flood", p).unwrap();
        }
    }
    // A value longer than the maximum label length is replaced, not kept.
    let too_long = "z".repeat(500);
    for _ in 0..4 {
        call("s6", &too_long, false).unwrap();
    }

    let now = read::snapshot().expect("the Prometheus exporter is on");
    for (i, tool) in tools.iter().enumerate() {
        let (ok, failed) = (10 + i as u64, i as u64);
        assert_eq!(success(&now, "s1", tool), ok, "{tool}");
        assert_eq!(failures(&now, "s1", tool), failed, "{tool}");
        assert_eq!(calls(&now, "s1", tool), ok + failed, "{tool}");
        assert_eq!(
            now.histogram(
                Metric::ToolCallDuration,
                &[("server_name", "s1"), ("tool_name", tool)]
            )
            .count,
            ok + failed,
            "{tool}"
        );
    }
    assert_eq!(calls(&now, "s2", "shared"), 1000);
    assert_eq!(success(&now, "s2", "shared"), 1000);
    assert_eq!(calls(&now, "s3", "boom"), 2);
    assert_eq!(success(&now, "s3", "boom"), 1);
    assert_eq!(
        now.counter(
            Metric::ToolCallFailure,
            &[("server_name", "s3"), ("error_type", "panic")]
        ),
        1
    );
    let ctx = |project| {
        now.counter(
            Metric::ToolCalls,
            &[("server_name", "s4"), ("project_id", project)],
        )
    };
    assert_eq!((ctx("p-context"), ctx("unknown")), (3, 2));
    let flood = |project| {
        now.counter(
            Metric::ToolCalls,
            &[("server_name", "s5"), ("project_id", project)],
        )
    };
    assert_eq!(
        [
            flood("p1"),
            flood("p2"),
            flood("p3"),
            flood("p4"),
            flood("_other")
        ],
        [3, 3, 3, 0, 6]
    );
    assert_eq!(calls(&now, "s6", "_too_long"), 4);
    for (i, (_, name)) in SixErrors::ALL.iter().enumerate() {
        let expected = (0..3).filter(|round| i <= round + 3).count() as u64;
        assert_eq!(
            now.counter(
                Metric::ToolCallFailure,
                &[("server_name", "s7"), ("error_type", name)]
            ),
            expected,
            "{name}"
        );
    }
    assert_eq!(calls(&now, "s7", "flaky"), 3 * 4 + 2 + 1);
    assert_eq!(failures(&now, "s7", "flaky"), 3 * 4 + 2 + 1);
    assert_eq!(calls(&now, "s6", &too_long), 0);
}
