//! Label values from requests are bounded before they reach the SDK: a flood of project ids
//! collapses into `_other`, over-long values into `_too_long`, and the per-(server_name,
//! tool_name) aggregates stay exact; the SDK's overflow series (which drops every label) is
//! never reached.

use mcp_gateway_metrics::label_bounds::{OTHER, TOO_LONG};
use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{record, tool_call, Config, RequestContext};
use tests::gateway_fixture::GatewayError;

#[tool_call]
fn call(server_name: &str, tool_name: &str, ok: bool) -> Result<(), GatewayError> {
    if ok {
        Ok(())
    } else {
        Err(GatewayError::UpstreamUnavailable)
    }
}

fn meter(limit: usize) -> TestMeter {
    TestMeter::with_config(Config::builder().cardinality_limit(limit)).unwrap()
}

#[test]
fn a_project_id_flood_keeps_every_per_tool_aggregate_exact() {
    let meter = meter(500);
    const PROJECTS: usize = 1000;
    for i in 0..PROJECTS {
        let _request = RequestContext::new(format!("attacker-{i}")).enter();
        call("github", "search", i % 3 != 0).ok();
        call("jira", "create", true).ok();
    }
    for (server, tool) in [("github", "search"), ("jira", "create")] {
        let l = [("server_name", server), ("tool_name", tool)];
        let calls = meter.counter("enkrypt_tool_calls_total", &l);
        let success = meter.counter("enkrypt_tool_call_success_total", &l);
        let failure = meter.counter("enkrypt_tool_call_failure_total", &l);
        assert_eq!(calls, PROJECTS as u64, "{server}/{tool}");
        assert_eq!(calls, success + failure, "{server}/{tool}");
    }
    let series = meter.series("enkrypt_tool_calls_total");
    assert!(
        series
            .iter()
            .all(|s| !s.labels.iter().any(|(k, _)| k == "otel_metric_overflow")),
        "the SDK's overflow series was reached"
    );
    let projects: std::collections::BTreeSet<&str> = series
        .iter()
        .flat_map(|s| &s.labels)
        .filter(|(k, _)| k == "project_id")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(projects.len(), 101, "100 admitted ids and {OTHER}");
    assert!(projects.contains(OTHER));
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &[("project_id", OTHER)]),
        2 * (PROJECTS as u64 - 100)
    );
    assert!(!meter.render().contains("otel_metric_overflow"));
}

#[test]
fn over_long_label_values_are_replaced_and_the_exposition_stays_small() {
    let meter = meter(2000);
    for i in 0..600 {
        let id = format!("{i}-{}", "x".repeat(64 * 1024));
        let _request = RequestContext::new(id).enter();
        call("github", "search", true).ok();
    }
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &[("project_id", TOO_LONG)]),
        600
    );
    let text = meter.render();
    assert!(text.len() < 64 * 1024, "{} bytes", text.len());
}

#[test]
fn the_typed_api_bounds_user_ids_too() {
    let meter = TestMeter::with_config(Config::builder().label_value_budget(10)).unwrap();
    for i in 0..50 {
        record::list_all_servers(&format!("user-{i}"), "p1");
    }
    let users = meter.series("enkrypt_list_all_servers_calls");
    assert_eq!(users.len(), 11, "10 admitted user ids and {OTHER}");
    assert_eq!(
        meter.counter("enkrypt_list_all_servers_calls", &[("user_id", OTHER)]),
        40
    );
    assert_eq!(meter.counter("enkrypt_list_all_servers_calls", &[]), 50);
}

#[test]
fn the_limits_are_validated() {
    for limit in [0, 100_001, 10_000_000, 1_000_000_000] {
        let err = Config::builder()
            .cardinality_limit(limit)
            .build_with_env(|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cardinality_limit") && err.contains("100000"),
            "{err}"
        );
    }
    let err = Config::builder()
        .build_with_env(|v| (v == "MCP_METRICS_LABEL_VALUE_BUDGET").then(|| "0".into()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("MCP_METRICS_LABEL_VALUE_BUDGET"), "{err}");
}
