//! The gateway's workload mode, run briefly: every metric of the reference gets samples with
//! plausible values from real code paths.

use std::time::Duration;

use examples::gateway::workload;
use mcp_gateway_metrics::catalog::{MetricKind, CATALOG};
use tests::exposition::parse;
use tests::gateway_harness::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_workload_produces_every_metric_with_plausible_values() {
    let h = Harness::start().await;
    let tally = workload::run(
        h.addr,
        &h.gateway.config.gateway_key,
        Duration::from_secs(1),
        false,
    )
    .await
    .unwrap();
    assert!(tally.requests > 20 && tally.errors > 0, "{tally:?}");
    // Let the abandoned call and the closed sessions finish on the server side.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let text = mcp_gateway_metrics::render();
    let families = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for def in CATALOG {
        let family = families
            .get(def.name)
            .unwrap_or_else(|| panic!("{} has no sample\n{text}", def.name));
        match def.kind {
            MetricKind::Counter => assert!(
                family.samples.iter().any(|(_, _, v)| *v > 0.0),
                "{} never counted\n{text}",
                def.name
            ),
            MetricKind::UpDownCounter => {
                assert_eq!(
                    family.value(def.name, &[]),
                    0.0,
                    "{} is not back to 0\n{text}",
                    def.name
                )
            }
            MetricKind::Histogram => {
                // Each series' count equals its +Inf bucket, and something was recorded.
                let count = family.value(&format!("{}_count", def.name), &[]);
                let inf = family.value(&format!("{}_bucket", def.name), &[("le", "+Inf")]);
                assert!(
                    count > 0.0 && count == inf,
                    "{}: count {count}, +Inf {inf}",
                    def.name
                );
            }
        }
    }

    // Same snapshot, read through the harness (which resolves histogram series to families).
    let sum = |series: &str, labels: &[(&str, &str)]| h.value(series, labels);
    // Invariant, per server and tool: calls = success + failure + blocked.
    for (server, tool) in [
        ("github", "create_issue"),
        ("github", "get_file"),
        ("slow", "analyze"),
        ("flaky", "fetch"),
    ] {
        let l = [("server_name", server), ("tool_name", tool)];
        let calls = sum("enkrypt_tool_calls_total", &l);
        let done = sum("enkrypt_tool_call_success_total", &l)
            + sum("enkrypt_tool_call_failure_total", &l)
            + sum("enkrypt_tool_call_blocked_total", &l);
        assert!(
            calls > 0.0 && calls == done,
            "{server}/{tool}: {calls} calls, {done} outcomes"
        );
    }
    // Histogram counts equal the calls.
    assert_eq!(
        sum("enkrypt_tool_call_duration_seconds_count", &[]),
        sum("enkrypt_tool_calls_total", &[])
    );
    assert_eq!(
        sum("enkrypt_timeout_operation_duration_seconds_count", &[]),
        sum("enkrypt_timeout_operations_total", &[])
    );
    // Timeout totals are the sum of their outcomes.
    assert_eq!(
        sum("enkrypt_timeout_operations_total", &[]),
        sum("enkrypt_timeout_operations_successful", &[])
            + sum("enkrypt_timeout_operations_timed_out", &[])
            + sum("enkrypt_timeout_operations_cancelled", &[])
    );
    // The paths the workload takes, by their labels.
    assert!(
        sum(
            "enkrypt_tool_call_blocked_total",
            &[("reason", "injection_attack")]
        ) >= 1.0
    );
    assert!(
        sum(
            "enkrypt_tool_call_blocked_total",
            &[("reason", "hallucination")]
        ) >= 1.0
    );
    assert!(
        sum(
            "enkrypt_tool_call_failure_total",
            &[("error_type", "timeout")]
        ) >= 1.0
    );
    assert!(
        sum(
            "enkrypt_tool_call_failure_total",
            &[("error_type", "upstream_error")]
        ) >= 1.0
    );
    assert!(
        sum(
            "enkrypt_tool_call_error_counter",
            &[("error_type", "upstream_unavailable")]
        ) >= 1.0
    );
    assert!(
        sum(
            "enkrypt_tool_call_error_counter",
            &[("error_type", "cancelled")]
        ) >= 1.0
    );
    assert!(sum("enkrypt_pii_redactions_total", &[("pii_type", "email")]) >= 1.0);
    assert!(
        sum(
            "enkrypt_auth_failure_total",
            &[("failure_reason", "invalid_key")]
        ) >= 1.0
    );
    assert!(
        sum(
            "enkrypt_auth_failure_total",
            &[("failure_reason", "missing_key")]
        ) >= 1.0
    );
    assert!(
        sum(
            "enkrypt_timeout_escalation_fail",
            &[("operation_type", "tool_execution")]
        ) >= 1.0
    );
}
