//! The shipped infra files: promtool accepts the Prometheus config and rules and the rule unit
//! tests pass; the dashboards are valid, use the provisioned datasource and name only series
//! of the catalog; docs/metrics.md carries the PromQL cookbook.

use std::collections::BTreeSet;

use mcp_gateway_metrics::catalog::Metric;
use serde_json::Value;
use tests::prometheus::{promtool, repo};

#[test]
fn promtool_checks_the_config_and_rules_and_runs_the_rule_tests() {
    let dir = repo().join("infra/prometheus");
    let config = promtool(&dir, &["check", "config", "prometheus.yml"]);
    assert!(config.contains("SUCCESS"), "{config}");
    let rules = promtool(&dir, &["check", "rules", "alerting_rules.yml"]);
    assert!(rules.contains("SUCCESS: 8 rules found"), "{rules}");
    let tests = promtool(&dir, &["test", "rules", "alerting_rules.test.yml"]);
    assert!(tests.contains("SUCCESS"), "{tests}");
}

/// Every `enkrypt_*` name in a PromQL expression, with histogram suffixes removed.
pub fn series_names(expr: &str) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("enkrypt_"))
        .map(|w| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| w.strip_suffix(s).filter(|b| Metric::from_name(b).is_some()))
                .unwrap_or(w)
                .to_owned()
        })
        .collect()
}

fn dashboards() -> Vec<(String, Value)> {
    let dir = repo().join("infra/grafana/provisioning/dashboards");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let json: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), json)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every panel target of a dashboard: (panel title, expr).
pub fn targets(dashboard: &Value) -> Vec<(String, String)> {
    dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_owned();
            p["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |t| (title.clone(), t["expr"].as_str().unwrap().to_owned()))
        })
        .collect()
}

#[test]
fn dashboards_are_valid_use_the_provisioned_datasource_and_name_only_catalog_series() {
    let datasource = std::fs::read_to_string(
        repo().join("infra/grafana/provisioning/datasources/prometheus.yml"),
    )
    .unwrap();
    assert!(datasource.contains("uid: prometheus"), "{datasource}");
    let boards = dashboards();
    let titles: Vec<&str> = boards
        .iter()
        .map(|(_, d)| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["OpenTelemetry Gateway Metrics", "Gateway Metrics"]);
    let gateway = &boards[1].1;
    let panel_titles: Vec<&str> = gateway["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for expected in [
        "Tool Call Rate",
        "Tool Call Success Rate",
        "Tool Call Latency p95",
        "Cache Hit Ratio",
        "Guardrail Violations",
        "Active Sessions",
        "Error Rate",
        "Timeouts",
    ] {
        assert!(
            panel_titles.contains(&expected),
            "Gateway Metrics lacks {expected}: {panel_titles:?}"
        );
    }
    for (file, board) in &boards {
        for panel in board["panels"].as_array().unwrap() {
            if panel["type"] == "row" {
                continue;
            }
            assert_eq!(
                panel["datasource"]["uid"], "prometheus",
                "{file}: {}",
                panel["title"]
            );
            for target in panel["targets"].as_array().unwrap() {
                assert_eq!(
                    target["datasource"]["uid"], "prometheus",
                    "{file}: {}",
                    panel["title"]
                );
            }
        }
        let all = targets(board);
        assert!(all.len() >= 10, "{file}");
        for (title, expr) in all {
            let names = series_names(&expr);
            assert!(!names.is_empty(), "{file}/{title}: {expr} names no series");
            for name in names {
                assert!(
                    Metric::from_name(&name).is_some(),
                    "{file}/{title}: {name} is not in the catalog ({expr})"
                );
            }
        }
    }
}

#[test]
fn alert_rules_and_cookbook_name_only_catalog_series_and_the_reference_page_lists_both() {
    let rules =
        std::fs::read_to_string(repo().join("infra/prometheus/alerting_rules.yml")).unwrap();
    let names = series_names(&rules);
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        assert!(
            Metric::from_name(name).is_some(),
            "alerting_rules.yml: {name} is not in the catalog"
        );
    }
    let cookbook: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("infra/prometheus/cookbook.json")).unwrap(),
    )
    .unwrap();
    let reference_page = std::fs::read_to_string(repo().join("docs/metrics.md")).unwrap();
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert_eq!(alerts.len(), 8, "{alerts:?}");
    for alert in alerts {
        assert!(
            reference_page.contains(&format!("| `{alert}` |")),
            "docs/metrics.md does not describe the alert {alert}"
        );
    }
    for entry in cookbook.as_array().unwrap() {
        let expr = entry["expr"].as_str().unwrap();
        for name in series_names(expr) {
            assert!(Metric::from_name(&name).is_some(), "cookbook: {name}");
        }
        assert!(
            reference_page.contains(expr),
            "docs/metrics.md's cookbook lacks {expr}"
        );
        if let Some(reference) = entry["reference"].as_str() {
            assert!(
                reference_page.contains(reference),
                "docs/metrics.md does not say which reference query was corrected: {reference}"
            );
        }
    }
}
