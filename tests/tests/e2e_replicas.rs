//! Many replicas, one Prometheus: three gateway processes under load, scraped by one real
//! Prometheus. Aggregated across instances, every total equals the sum of what the three
//! recorded; the instances are told apart by `instance`; every cookbook query answers.
//! Bounded in time, loopback only.

use std::time::{Duration, Instant};

use examples::gateway::workload;
use serde_json::Value;
use tests::binaries::GatewayProcess;
use tests::exposition::parse;
use tests::prometheus::{repo, Prometheus};

/// Totals compared across the replicas.
const TOTALS: [&str; 6] = [
    "enkrypt_tool_calls_total",
    "enkrypt_tool_call_success_total",
    "enkrypt_tool_call_failure_total",
    "enkrypt_tool_call_blocked_total",
    "enkrypt_auth_failure_total",
    "enkrypt_timeout_operations_total",
];

/// One replica's totals, read from its own /metrics.
fn recorded(port: u16) -> Vec<f64> {
    let text = reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    let families = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    TOTALS
        .iter()
        .map(|name| families.get(*name).map_or(0.0, |f| f.value(name, &[])))
        .collect()
}

#[test]
fn three_replicas_aggregate_exactly_in_one_prometheus() {
    let replicas: Vec<GatewayProcess> = (0..3).map(|_| GatewayProcess::start(&[])).collect();
    let targets: Vec<String> = replicas
        .iter()
        .map(|r| format!("'127.0.0.1:{}'", r.metrics_port))
        .collect();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: gateway\n    static_configs:\n      - targets: [{}]\n",
        repo().join("infra/prometheus/alerting_rules.yml").display(),
        targets.join(", ")
    );
    let prometheus = Prometheus::start(&config);

    // Load on all three at once, each for its own time (so their totals differ).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let runs: Vec<_> = replicas
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let duration = Duration::from_millis(800 * (i as u64 + 1));
                tokio::spawn(workload::run(r.mcp, "demo-key", duration, false))
            })
            .collect();
        for run in runs {
            assert!(run.await.unwrap().unwrap().requests > 5);
        }
    });

    // Abandoned calls finish upstream a little later: wait until the replicas are still and
    // Prometheus has scraped their final values (bounded).
    let deadline = Instant::now() + Duration::from_secs(60);
    let sum_of_replicas = loop {
        let now: Vec<Vec<f64>> = replicas.iter().map(|r| recorded(r.metrics_port)).collect();
        let sums: Vec<f64> = (0..TOTALS.len())
            .map(|i| now.iter().map(|r| r[i]).sum())
            .collect();
        let scraped: Vec<f64> = TOTALS
            .iter()
            .map(|name| {
                prometheus
                    .query(&format!("sum({name})"))
                    .first()
                    .map_or(f64::NAN, |(_, v)| *v)
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1500));
        let later: Vec<Vec<f64>> = replicas.iter().map(|r| recorded(r.metrics_port)).collect();
        if scraped == sums && later == now {
            break sums;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus {scraped:?} never matched the replicas {sums:?}"
        );
    };
    assert!(sum_of_replicas[0] > 30.0, "{sum_of_replicas:?}");

    // Three instances, told apart by `instance`, each with its own share.
    let by_instance = prometheus.query("sum by (instance) (enkrypt_tool_calls_total)");
    assert_eq!(by_instance.len(), 3, "{by_instance:?}");
    for r in &replicas {
        let instance = format!("127.0.0.1:{}", r.metrics_port);
        let own = recorded(r.metrics_port)[0];
        let (_, scraped) = by_instance
            .iter()
            .find(|(labels, _)| labels["instance"] == instance.as_str())
            .unwrap_or_else(|| panic!("{instance} missing in {by_instance:?}"));
        assert_eq!(*scraped, own, "{instance}");
    }
    let instance_ids = prometheus.query("count(count by (service_instance_id) (target_info))");
    assert_eq!(
        instance_ids.first().map(|(_, v)| *v),
        Some(3.0),
        "each replica has its own service.instance.id"
    );

    // Every cookbook query answers across the replicas.
    let cookbook: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(repo().join("infra/prometheus/cookbook.json")).unwrap(),
    )
    .unwrap();
    for entry in &cookbook {
        let expr = entry["expr"].as_str().unwrap();
        let result = prometheus.query(expr);
        assert!(
            !result.is_empty(),
            "{}: {expr} returned nothing",
            entry["title"]
        );
    }

    replicas.into_iter().for_each(GatewayProcess::stop);
}
