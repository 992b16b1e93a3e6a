//! End to end against a real Prometheus on loopback: it scrapes the gateway's `/metrics`
//! while the workload runs. Then every query of the cookbook, every alert rule and every
//! dashboard target is evaluated through the HTTP API and must return plausible values, and
//! the totals must equal what the gateway recorded.
//!
//! The same run pushes OTLP/HTTP. Debian's Prometheus builds (the only ones this machine can
//! install) have the OTLP receiver compiled out, so the push goes to a receiver that decodes it
//! with the official OTLP protobuf definitions, and its cumulative totals are checked against
//! the same recorded values.

use std::time::Duration;

use examples::gateway::config::GatewayConfig;
use examples::gateway::server::{serve_http, Gateway};
use examples::gateway::workload;
use mcp_gateway_metrics::{Config, OperationType, OtlpProtocol};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;
use serde_json::Value;
use tests::exposition::parse;
use tests::otlp_receiver::{Export, Receiver};
use tests::prometheus::{free_port, repo, Prometheus};

const SERVICE: &str = "secure-mcp-gateway";

/// The total of one metric in one OTLP export: counters and gauges summed over their points,
/// histograms by their counts. `None` when the export does not carry the metric.
fn otlp_total(export: &Export, name: &str) -> Option<f64> {
    let mut found = None;
    for metric in export
        .request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == name)
    {
        let total: f64 = match &metric.data {
            Some(Data::Sum(sum)) => sum
                .data_points
                .iter()
                .map(|p| match p.value {
                    Some(Number::AsInt(v)) => v as f64,
                    Some(Number::AsDouble(v)) => v,
                    None => 0.0,
                })
                .sum(),
            Some(Data::Histogram(h)) => h.data_points.iter().map(|p| p.count as f64).sum(),
            _ => 0.0,
        };
        *found.get_or_insert(0.0) += total;
    }
    found
}

fn cookbook() -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join("infra/prometheus/cookbook.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Values are plausible for what the query measures: at least one finite value, and every
/// finite value in range (NaN is a series with no traffic in the window: 0/0).
fn assert_plausible(what: &str, expr: &str, expect: &str, values: &[(Value, f64)]) {
    assert!(!values.is_empty(), "{what}: `{expr}` returned nothing");
    let finite: Vec<f64> = values
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect();
    assert!(
        !finite.is_empty(),
        "{what}: `{expr}` has no finite value: {values:?}"
    );
    let (low, high) = match expect {
        "ratio" => (0.0, 1.0),
        "percent" => (0.0, 100.0),
        // Within the bucket bounds: the largest is 60 s.
        "seconds" => (0.0, 60.0),
        _ => (0.0, f64::MAX),
    };
    for v in &finite {
        assert!(
            (low..=high).contains(v),
            "{what}: `{expr}` gave {v}, outside [{low}, {high}]"
        );
    }
}

/// An alert rule's expression without its threshold (`... > 0.1`): the value it compares.
fn without_threshold(expr: &str) -> &str {
    match expr.rsplit_once('>') {
        Some((lhs, threshold)) if threshold.trim().parse::<f64>().is_ok() => lhs.trim(),
        _ => expr.trim(),
    }
}

#[test]
fn the_cookbook_alert_rules_and_dashboards_answer_from_a_real_prometheus_on_both_paths() {
    let rules_path = repo().join("infra/prometheus/alerting_rules.yml");
    let metrics_port = free_port();
    let receiver = Receiver::start();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: gateway\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n",
        rules_path.display()
    );
    let prometheus = Prometheus::start(&config);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let metrics = Config::builder()
        .service_name(SERVICE)
        .prometheus_address(format!("127.0.0.1:{metrics_port}"))
        .otlp(OtlpProtocol::HttpProtobuf)
        .otlp_endpoint(receiver.url())
        .export_interval(Duration::from_secs(1))
        .operation_timeout(OperationType::ToolExecution, Duration::from_secs(2))
        .install()
        .unwrap();
    let tally = runtime.block_on(async {
        let gateway = Gateway::new(GatewayConfig::demo(), "demo");
        let server = serve_http(gateway.clone(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = server.addr;
        let tally = workload::run(
            addr,
            &gateway.config.gateway_key,
            Duration::from_secs(3),
            false,
        )
        .await
        .unwrap();
        // Let abandoned work and closed sessions settle, then a few scrapes and pushes.
        tokio::time::sleep(Duration::from_secs(4)).await;
        server.abort();
        tally
    });
    assert!(tally.requests > 20, "{tally:?}");
    metrics.flush().unwrap();
    std::thread::sleep(Duration::from_secs(3));

    // What the gateway recorded.
    let families = parse(&mcp_gateway_metrics::render()).unwrap();
    let recorded = |name: &str| families[name].value(name, &[]);

    // Scrape path: totals equal what the gateway recorded.
    let total = |expr: &str| {
        prometheus
            .query(expr)
            .first()
            .map(|(_, v)| *v)
            .unwrap_or(f64::NAN)
    };
    for name in [
        "enkrypt_tool_calls_total",
        "enkrypt_tool_call_success_total",
        "enkrypt_tool_call_failure_total",
        "enkrypt_tool_call_blocked_total",
        "enkrypt_pii_redactions_total",
        "enkrypt_auth_failure_total",
        "enkrypt_timeout_operations_total",
    ] {
        let scraped = total(&format!("sum({name}{{job=\"gateway\"}})"));
        assert_eq!(scraped, recorded(name), "scraped {name}");
    }
    for name in [
        "enkrypt_list_all_servers_calls",
        "enkrypt_timeout_escalation_warn",
        "enkrypt_servers_discovered",
    ] {
        assert_eq!(
            total(&format!("sum({name}{{job=\"gateway\"}})")),
            recorded(name),
            "scraped {name}"
        );
    }

    // OTLP path: the last export carries the same cumulative totals.
    let exports = receiver.wait_for(Duration::from_secs(10), |e| !e.is_empty());
    let last = exports.last().expect("OTLP exports arrived");
    for name in [
        "enkrypt_tool_calls_total",
        "enkrypt_tool_call_failure_total",
        "enkrypt_tool_call_blocked_total",
        "enkrypt_list_all_servers_calls",
        "enkrypt_timeout_escalation_warn",
        "enkrypt_tool_call_duration_seconds",
    ] {
        let expected = if name == "enkrypt_tool_call_duration_seconds" {
            recorded("enkrypt_tool_calls_total")
        } else {
            recorded(name)
        };
        assert_eq!(otlp_total(last, name), Some(expected), "pushed {name}");
    }

    // The cookbook, as docs/metrics.md gives it.
    for entry in cookbook() {
        let (title, expr, expect) = (
            entry["title"].as_str().unwrap(),
            entry["expr"].as_str().unwrap(),
            entry["expect"].as_str().unwrap(),
        );
        assert_plausible(title, expr, expect, &prometheus.query(expr));
        if let Some(reference) = entry["reference"].as_str() {
            // The trap: the reference's own expression matches no pairs.
            assert!(
                prometheus.query(reference).is_empty(),
                "{title}: the reference query `{reference}` is not empty"
            );
        }
    }

    // Every alert rule, loaded and parsed by Prometheus itself, once it has evaluated them
    // (the group's interval is 30 s: its first evaluation can take that long).
    let load_rules = || -> Vec<Value> {
        prometheus.api("/api/v1/rules")["data"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap().clone())
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(45);
    let mut rules = load_rules();
    while rules.iter().any(|r| r["health"] == "unknown") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        rules = load_rules();
    }
    assert_eq!(rules.len(), 8);
    for rule in &rules {
        assert_eq!(rule["health"], "ok", "{rule}");
        let expr = without_threshold(rule["query"].as_str().unwrap());
        let expect = if expr.contains('/') {
            "ratio"
        } else if expr.contains("histogram_quantile") {
            "seconds"
        } else {
            "rate"
        };
        assert_plausible(
            rule["name"].as_str().unwrap(),
            expr,
            expect,
            &prometheus.query(expr),
        );
    }

    // Every dashboard target.
    let dir = repo().join("infra/grafana/provisioning/dashboards");
    for file in ["gateway-metrics.json", "OpenTelemetry Gateway Metrics.json"] {
        let board: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        for panel in board["panels"].as_array().unwrap() {
            let unit = panel["fieldConfig"]["defaults"]["unit"]
                .as_str()
                .unwrap_or_default();
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().unwrap();
                let expect =
                    if unit == "percentunit" || (expr.contains(" / ") && !expr.contains("_sum")) {
                        "ratio"
                    } else if unit == "s" {
                        "seconds"
                    } else {
                        "count"
                    };
                let what = format!("{file}/{}", panel["title"]);
                let values = prometheus.query(expr);
                assert_plausible(&what, expr, expect, &values);
            }
        }
    }
}
