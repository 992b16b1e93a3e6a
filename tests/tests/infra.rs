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

/// A YAML file of the repository.
fn yaml(path: &str) -> yaml_rust2::Yaml {
    let text = std::fs::read_to_string(repo().join(path)).unwrap();
    yaml_rust2::YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .remove(0)
}

/// `host:port` (or a URL ending in one, with an optional path) split.
fn host_port(s: &str) -> (String, u16) {
    let authority = s.split("://").last().unwrap().split('/').next().unwrap();
    let (host, port) = authority
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{s}: no port"));
    (
        host.to_owned(),
        port.parse().unwrap_or_else(|_| panic!("{s}: bad port")),
    )
}

#[test]
fn docker_compose_runs_what_prometheus_scrapes_and_what_the_gateways_push_to() {
    use std::collections::BTreeMap;

    let compose = yaml("infra/docker-compose.yml");
    let services = compose["services"].as_hash().expect("services");
    // What each service listens on inside the compose network.
    let mut listening: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    let collector = yaml("infra/otel-collector/config.yaml");
    let collector_ports = [
        &collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"],
        &collector["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"],
        &collector["exporters"]["prometheus"]["endpoint"],
    ]
    .map(|e| host_port(e.as_str().expect("an endpoint")).1);
    listening.insert(
        "otel-collector".into(),
        collector_ports.into_iter().collect(),
    );
    listening.insert("prometheus".into(), BTreeSet::from([9090]));
    let mut pushes = Vec::new();
    let mut gateways = 0;
    for (name, service) in services {
        let name = name.as_str().unwrap().to_owned();
        let command: Vec<&str> = service["command"]
            .as_vec()
            .map(|c| c.iter().filter_map(|a| a.as_str()).collect())
            .unwrap_or_default();
        if !command.windows(2).any(|w| w == ["--example", "gateway"]) {
            continue;
        }
        gateways += 1;
        // The gateway's own configuration from exactly this environment must be valid.
        let env: Vec<(String, String)> = service["environment"]
            .as_hash()
            .expect("an environment map")
            .iter()
            .map(|(k, v)| {
                let v = v
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_i64().map(|n| n.to_string()));
                (k.as_str().unwrap().to_owned(), v.unwrap())
            })
            .collect();
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let config = tests::config_with_env(mcp_gateway_metrics::Config::builder(), &pairs)
            .unwrap_or_else(|e| panic!("service {name}: {e}"));
        let mut ports = BTreeSet::new();
        let listen = command
            .windows(2)
            .find(|w| w[0] == "--listen")
            .map(|w| w[1]);
        let (host, port) = host_port(listen.expect("--listen"));
        assert_eq!(
            host, "0.0.0.0",
            "service {name}: MCP must listen beyond loopback"
        );
        ports.insert(port);
        let scraped = config.prometheus().and_then(|p| p.serve_on);
        if let Some(addr) = scraped {
            assert!(
                addr.ip().is_unspecified(),
                "service {name}: /metrics on {addr} is loopback only"
            );
            ports.insert(addr.port());
        }
        if let Some(otlp) = config.otlp() {
            assert!(
                scraped.is_none(),
                "service {name} is both scraped and pushed: counted twice"
            );
            pushes.push((name.clone(), host_port(&otlp.endpoint)));
        }
        listening.insert(name, ports);
    }
    assert!(gateways >= 2, "one gateway per way into Prometheus");
    assert!(!pushes.is_empty(), "a gateway pushes OTLP to the collector");
    for (name, (host, port)) in &pushes {
        assert!(
            listening.get(host).is_some_and(|p| p.contains(port)),
            "service {name} pushes to {host}:{port}, which no service of the compose file serves"
        );
    }

    let prometheus = yaml("infra/prometheus/prometheus.yml");
    let mut jobs = 0;
    for job in prometheus["scrape_configs"]
        .as_vec()
        .expect("scrape_configs")
    {
        for target in job["static_configs"]
            .as_vec()
            .unwrap()
            .iter()
            .flat_map(|c| c["targets"].as_vec().unwrap())
        {
            let (host, port) = host_port(target.as_str().unwrap());
            assert!(
                listening.get(&host).is_some_and(|p| p.contains(&port)),
                "job {:?} scrapes {host}:{port}, which no service of the compose file serves \
                 ({listening:?})",
                job["job_name"].as_str()
            );
            jobs += 1;
        }
    }
    assert_eq!(jobs, 2);
}
