//! Alerts that reach someone: three gateway replicas scraped by one real Prometheus, which
//! evaluates the shipped rules (a copy with every `for:` shortened to 0s) and sends to a real
//! Alertmanager, which delivers to a webhook in this test. A fault injected into one replica
//! (its flaky upstream fails every call) fires HighErrorRate with that server's labels; the
//! healthy traffic fires nothing. Bounded in time, loopback only.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use examples::gateway::workload::{call, connect};
use serde_json::{json, Value};
use tests::binaries::GatewayProcess;
use tests::prometheus::{alertmanager_bin, free_port, repo, wait_ready, Prometheus, TempDir};

/// Alert notifications as the webhook received them.
#[derive(Clone, Default)]
struct Webhook(Arc<Mutex<Vec<Value>>>);

impl Webhook {
    /// Listens on a free loopback port; returns the receiver and its URL.
    fn start() -> (Webhook, String) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}/alerts", server.server_addr().to_ip().unwrap());
        let hook = Webhook::default();
        let alerts = hook.clone();
        std::thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                if let Ok(notification) = serde_json::from_str::<Value>(&body) {
                    let list = notification["alerts"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    alerts.0.lock().unwrap().extend(list);
                }
                let _ = request.respond(tiny_http::Response::empty(200));
            }
        });
        (hook, url)
    }

    fn alerts(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }
}

/// A running Alertmanager; killed on drop.
struct Alertmanager {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Alertmanager {
    fn start(webhook: &str) -> Alertmanager {
        let dir = TempDir::new("alertmanager-e2e");
        let config = format!(
            "route:\n  receiver: test\n  group_by: ['alertname', 'server_name', 'tool_name']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: test\n    webhook_configs:\n      - url: '{webhook}'\n        send_resolved: false\n"
        );
        let config_path = dir.0.join("alertmanager.yml");
        std::fs::write(&config_path, config).unwrap();
        let port = free_port();
        let child = Command::new(alertmanager_bin())
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.path={}", dir.0.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No HA cluster: nothing listens beyond the one loopback port.
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("alertmanager starts");
        let alertmanager = Alertmanager {
            child,
            port,
            _dir: dir,
        };
        wait_ready(&format!("http://127.0.0.1:{port}"), "alertmanager");
        alertmanager
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shipped rules with every `for:` shortened to 0s, written into `dir`.
fn rules_for_the_test(dir: &TempDir) -> std::path::PathBuf {
    let shipped =
        std::fs::read_to_string(repo().join("infra/prometheus/alerting_rules.yml")).unwrap();
    let fast: String = shipped
        .lines()
        .map(|line| match line.split_once("for:") {
            Some((indent, _)) if indent.trim().is_empty() => format!("{indent}for: 0s"),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(fast, shipped, "the rules have for: durations to shorten");
    let path = dir.0.join("alerting_rules.yml");
    std::fs::write(&path, fast).unwrap();
    path
}

#[test]
fn a_fault_in_one_replica_fires_high_error_rate_and_reaches_the_webhook() {
    let (webhook, webhook_url) = Webhook::start();
    let alertmanager = Alertmanager::start(&webhook_url);
    let healthy: Vec<GatewayProcess> = (0..2).map(|_| GatewayProcess::start(&[])).collect();
    let faulty = GatewayProcess::start(&[("GATEWAY_DEMO_FLAKY_FAIL_EVERY", "1")]);

    let dir = TempDir::new("alert-rules");
    let rules = rules_for_the_test(&dir);
    let targets: Vec<String> = healthy
        .iter()
        .chain([&faulty])
        .map(|g| format!("'127.0.0.1:{}'", g.metrics_port))
        .collect();
    let prometheus = Prometheus::start(&format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{}']\nscrape_configs:\n  - job_name: gateway\n    static_configs:\n      - targets: [{}]\n",
        rules.display(),
        alertmanager.port,
        targets.join(", ")
    ));

    // Steady traffic for a few seconds: github calls on the healthy replicas, flaky fetches
    // (every one failing) on the faulty one.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let secure = |server: &str, tool: &str, args: Value| json!({ "server_name": server, "tool_calls": [{ "name": tool, "args": args }] });
    let search = secure("github", "search_code", json!({ "query": "alerting" }));
    let fetch = secure(
        "flaky",
        "fetch",
        json!({ "url": "https://example.com/data" }),
    );
    let fired = runtime.block_on(async {
        let mut clients = Vec::new();
        for g in &healthy {
            clients.push((
                connect(g.mcp, "demo-key", "p1", "u1").await.unwrap(),
                &search,
            ));
        }
        clients.push((
            connect(faulty.mcp, "demo-key", "p1", "u1").await.unwrap(),
            &fetch,
        ));
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            for (client, request) in &clients {
                let _ = call(client, "enkrypt_secure_call_tools", (*request).clone()).await;
            }
            let alerts = webhook.alerts();
            if alerts
                .iter()
                .any(|a| a["labels"]["alertname"] == "HighErrorRate")
            {
                // A little longer, for anything else that would fire.
                tokio::time::sleep(Duration::from_secs(3)).await;
                break webhook.alerts();
            }
            assert!(
                Instant::now() < deadline,
                "no HighErrorRate reached the webhook; Prometheus alerts: {}",
                prometheus.api("/api/v1/alerts")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });

    let names: std::collections::BTreeSet<String> = fired
        .iter()
        .map(|a| {
            a["labels"]["alertname"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        ["HighErrorRate".to_owned()].into(),
        "only the injected fault fires: {fired:#?}"
    );
    for alert in &fired {
        assert_eq!(alert["labels"]["server_name"], "flaky", "{alert}");
        assert_eq!(alert["labels"]["tool_name"], "fetch", "{alert}");
        assert_eq!(alert["labels"]["severity"], "warning", "{alert}");
        assert_eq!(alert["status"], "firing", "{alert}");
    }
    healthy.into_iter().for_each(GatewayProcess::stop);
    faulty.stop();
}
