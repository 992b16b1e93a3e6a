//! The example gateway as a service, under faults and shutdown (bounded in count and time,
//! loopback only): a graceful stop loses nothing, a caller without the key leaves no state,
//! and one stalled upstream does not slow the others.

use std::process::Stdio;
use std::time::{Duration, Instant};

use examples::gateway::workload::{call, connect};
use mcp_gateway_metrics::OperationType;
use serde_json::{json, Value};
use tests::binaries::{example, terminate, ChildLines};
use tests::exposition::parse;
use tests::otlp_receiver::{sum, Receiver};

/// The in-process tests run one at a time: they share the pipeline, and one of them waits on
/// a process-wide gauge.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// This binary's metrics pipeline, installed once for the in-process tests (the SIGTERM test
/// runs the gateway as a process of its own).
fn pipeline() {
    static PIPELINE: std::sync::OnceLock<mcp_gateway_metrics::MetricsGuard> =
        std::sync::OnceLock::new();
    PIPELINE.get_or_init(|| {
        mcp_gateway_metrics::Config::builder()
            .serve_prometheus(false)
            .operation_timeout(OperationType::Connectivity, Duration::from_secs(5))
            .install()
            .expect("one pipeline per test binary")
    });
}

/// A gateway served in this process for one test, with this binary's pipeline: the demo's
/// configuration, or `config` written to a file and loaded as an operator's would be. Tests
/// holding one run one at a time (`SERIAL`).
struct InProcess {
    gateway: std::sync::Arc<examples::gateway::server::Gateway>,
    server: examples::gateway::server::HttpServer,
    _serial: tokio::sync::MutexGuard<'static, ()>,
    _dir: Option<tests::prometheus::TempDir>,
}

async fn in_process(config: Option<Value>) -> InProcess {
    use examples::gateway::config::GatewayConfig;
    use examples::gateway::server::{serve_http, Gateway};

    let serial = SERIAL.lock().await;
    pipeline();
    let (config, dir) = match config {
        None => (GatewayConfig::demo(), None),
        Some(json) => {
            let dir = tests::prometheus::TempDir::new("gateway-config");
            let path = dir.0.join("gateway.json");
            std::fs::write(&path, json.to_string()).unwrap();
            (GatewayConfig::load(&path).unwrap(), Some(dir))
        }
    };
    let gateway = Gateway::new(config, "test");
    let server = serve_http(gateway.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("a free loopback port");
    InProcess {
        gateway,
        server,
        _serial: serial,
        _dir: dir,
    }
}

fn analyze(delay_ms: u64) -> Value {
    json!({
        "server_name": "slow",
        "tool_calls": [{ "name": "analyze", "args": { "text": "quarterly numbers", "delay_ms": delay_ms } }]
    })
}

/// The value of an unlabelled (or summed) series in a `/metrics` text.
async fn scrape(metrics: &str, family: &str) -> f64 {
    let text = reqwest::get(metrics).await.unwrap().text().await.unwrap();
    let families = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    families.get(family).map_or(0.0, |f| f.value(family, &[]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_calls_in_flight_exports_every_call_and_zero_gauges() {
    let receiver = Receiver::start();
    let mut child = example("gateway")
        .args(["--listen", "127.0.0.1:0", "--drain", "3s"])
        .env("OTEL_METRICS_EXPORTER", "prometheus,otlp")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url())
        // Only the final export matters here.
        .env("OTEL_METRIC_EXPORT_INTERVAL", "600000")
        .env("MCP_METRICS_PROMETHEUS_ADDRESS", "127.0.0.1:0")
        .env("MCP_METRICS_TIMEOUT_TOOL_EXECUTION", "60s")
        .stderr(Stdio::piped())
        .spawn()
        .expect("the gateway starts");
    let mut lines = ChildLines::of(&mut child);
    let mcp = lines.after("MCP at http://");
    let metrics = format!("http://{}", lines.after("metrics at http://"));
    let addr = mcp.trim_end_matches("/mcp").parse().unwrap();

    // Four calls that finish within the drain deadline, two that do not.
    let client = std::sync::Arc::new(connect(addr, "demo-key", "p1", "u1").await.unwrap());
    let calls: Vec<_> = [1000, 1000, 1000, 1000, 20_000, 20_000]
        .into_iter()
        .map(|delay| {
            let client = std::sync::Arc::clone(&client);
            tokio::spawn(
                async move { call(&client, "enkrypt_secure_call_tools", analyze(delay)).await },
            )
        })
        .collect();
    let started = Instant::now();
    while scrape(&metrics, "enkrypt_timeout_active_operations").await < 6.0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "calls never in flight"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let status = tokio::task::spawn_blocking(move || {
        let status = terminate(&mut child, Duration::from_secs(30));
        (status, lines.rest(Duration::from_secs(10)))
    })
    .await
    .unwrap();
    let (status, rest) = status;
    assert!(status.success(), "{status:?}: {rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("2 calls still running at the deadline were cancelled")),
        "{rest:?}"
    );
    // The finished calls were answered; the cancelled ones never will be (their session is
    // gone, and rmcp's client waits on), so each wait is bounded.
    let mut answered = 0;
    for c in calls {
        if let Ok(result) = tokio::time::timeout(Duration::from_secs(2), c).await {
            assert!(result.unwrap().is_ok());
            answered += 1;
        }
    }
    assert_eq!(
        answered, 4,
        "the calls within the drain deadline are answered"
    );

    // The final export has every call, and every in-flight gauge back at 0.
    let exports = receiver.wait_for(Duration::from_secs(10), |e| !e.is_empty());
    let last = &exports.last().expect("a final export").request;
    let slow = [("server_name", "slow")];
    assert_eq!(sum(last, "enkrypt_tool_calls_total", &slow), 6);
    assert_eq!(sum(last, "enkrypt_tool_call_success_total", &slow), 4);
    assert_eq!(
        sum(
            last,
            "enkrypt_tool_call_failure_total",
            &[("server_name", "slow"), ("error_type", "cancelled")]
        ),
        2
    );
    for gauge in [
        "enkrypt_active_sessions",
        "enkrypt_active_users",
        "enkrypt_timeout_active_operations",
    ] {
        assert_eq!(sum(last, gauge, &[]), 0, "{gauge}");
    }
    assert!(
        rest.iter().all(|l| !l.contains("demo-key")),
        "the key is never printed: {rest:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upstream_does_not_hold_up_the_others() {
    // An "upstream" that accepts connections and never answers a byte.
    let stalled = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stalled_addr = stalled.local_addr().unwrap();
    std::thread::spawn(move || {
        let held: Vec<_> = stalled.incoming().take(16).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(held);
    });
    let InProcess { server, .. } = in_process(Some(json!({ "gateway_key": "k", "servers": [
        { "name": "github", "builtin": "github" },
        { "name": "stalled", "url": format!("http://{stalled_addr}/mcp") },
    ] })))
    .await;
    let client = std::sync::Arc::new(connect(server.addr, "k", "p1", "u1").await.unwrap());

    // A call to the stalled server waits on its connect (up to the connectivity timeout)...
    let waiting = {
        let client = std::sync::Arc::clone(&client);
        tokio::spawn(async move {
            call(
                &client,
                "enkrypt_discover_all_tools",
                json!({ "server_name": "stalled" }),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // ...while calls to github, each through its upstream connection, go through one after
    // the other before it gives up.
    for _ in 0..5 {
        let result = call(
            &client,
            "enkrypt_secure_call_tools",
            json!({ "server_name": "github", "tool_calls": [{ "name": "search_code", "args": { "query": "q" } }] }),
        )
        .await
        .unwrap();
        assert_eq!(result[0]["status"], "success", "{result}");
        assert!(
            !waiting.is_finished(),
            "the stalled connect ended too early"
        );
    }
    let err = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the stalled connect is bounded by its timeout")
        .unwrap()
        .unwrap_err();
    assert!(
        err.contains("timed out") || err.contains("timeout"),
        "{err}"
    );
    server.abort();
}

#[tokio::test]
async fn malformed_and_oversized_requests_are_refused_before_mcp() {
    use examples::gateway::server::MAX_REQUEST_BYTES;

    let InProcess { server, .. } = in_process(None).await;
    let url = format!("http://{}/mcp", server.addr);
    let post = |body: Vec<u8>| {
        reqwest::Client::new()
            .post(&url)
            .header("x-gateway-key", "demo-key")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
            .send()
    };
    let response = post(b"{not json".to_vec()).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700, "{body}");

    let response = post(vec![b' '; MAX_REQUEST_BYTES + 1]).await.unwrap();
    assert_eq!(response.status(), 413);
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardrails_take_bounded_linear_work() {
    use examples::gateway::guardrails::MAX_GUARDED_BYTES;

    let InProcess { server, .. } = in_process(None).await;
    let client = connect(server.addr, "demo-key", "p1", "u1").await.unwrap();
    let search = |query: String| json!({ "server_name": "github", "tool_calls": [{ "name": "search_code", "args": { "query": query } }] });
    // Just under the bound, full of PII to redact and restore: answered, every address back.
    let mut text = String::new();
    let mut n = 0;
    while text.len() < MAX_GUARDED_BYTES - 100 {
        text.push_str(&format!("user{n}@example.com "));
        n += 1;
    }
    let result = call(&client, "enkrypt_secure_call_tools", search(text))
        .await
        .unwrap();
    let answer = result[0]["result"].as_str().unwrap();
    assert!(answer.contains("user0@example.com") && answer.contains(&format!("user{}@", n - 1)));
    // Over it: a clear error before any detector runs.
    let err = call(
        &client,
        "enkrypt_secure_call_tools",
        search("x".repeat(MAX_GUARDED_BYTES + 1)),
    )
    .await
    .unwrap_err();
    assert!(err.contains("the guardrails read at most"), "{err}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_project_ids_are_refused_and_create_no_series() {
    let InProcess { server, .. } = in_process(None).await;
    let request = json!({ "server_name": "github", "tool_calls": [{ "name": "search_code", "args": { "query": "q" } }] });
    // 100 callers with the key, each inventing a project id.
    for i in 0..100 {
        let client = connect(server.addr, "demo-key", &format!("flood-{i}"), "mallory")
            .await
            .unwrap();
        let err = call(&client, "enkrypt_secure_call_tools", request.clone())
            .await
            .unwrap_err();
        assert!(err.contains("unknown project"), "{err}");
        client.cancel().await.unwrap();
    }
    // A configured project still works.
    let client = connect(server.addr, "demo-key", "p2", "alice")
        .await
        .unwrap();
    let result = call(&client, "enkrypt_secure_call_tools", request)
        .await
        .unwrap();
    assert_eq!(result[0]["status"], "success", "{result}");
    // No invented id reached a label value.
    use mcp_gateway_metrics::catalog::Metric;
    let snapshot = mcp_gateway_metrics::read::snapshot().expect("the pipeline");
    for metric in [Metric::ToolCalls, Metric::AuthSuccess, Metric::AuthFailure] {
        for series in snapshot.series(metric) {
            assert!(
                series.labels.iter().all(|(_, v)| !v.starts_with("flood-")),
                "{metric:?}: {series:?}"
            );
        }
    }
    assert!(
        snapshot.counter(
            Metric::AuthFailure,
            &[("failure_reason", "unknown_project")]
        ) >= 100
    );
    server.abort();
}

/// User ids are picked among the key's configured users like projects: a caller with the key
/// cannot mint `user_id` label values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_user_ids_are_refused_when_the_key_names_its_users() {
    use mcp_gateway_metrics::catalog::Metric;

    let InProcess { server, .. } = in_process(Some(json!({
        "gateway_key": "k",
        "projects": ["p1"],
        "users": ["alice"],
        "servers": [{ "name": "github", "builtin": "github" }]
    })))
    .await;
    let before = mcp_gateway_metrics::read::snapshot()
        .expect("the pipeline")
        .counter(Metric::AuthFailure, &[("failure_reason", "unknown_user")]);
    for i in 0..20 {
        let client = connect(server.addr, "k", "p1", &format!("mallory-{i}"))
            .await
            .unwrap();
        let err = call(&client, "enkrypt_list_all_servers", json!({}))
            .await
            .unwrap_err();
        assert!(err.contains("unknown user"), "{err}");
        client.cancel().await.unwrap();
    }
    let alice = connect(server.addr, "k", "p1", "alice").await.unwrap();
    call(&alice, "enkrypt_list_all_servers", json!({}))
        .await
        .unwrap();
    let snapshot = mcp_gateway_metrics::read::snapshot().expect("the pipeline");
    assert_eq!(
        snapshot.counter(Metric::AuthFailure, &[("failure_reason", "unknown_user")]) - before,
        20
    );
    for series in snapshot.series(Metric::ListAllServersCalls) {
        assert!(
            series
                .labels
                .iter()
                .all(|(_, v)| !v.starts_with("mallory-")),
            "{series:?}"
        );
    }
    assert!(
        snapshot.counter(Metric::ListAllServersCalls, &[("user_id", "alice")]) >= 1,
        "alice's call is counted"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_connection_mid_call_cancels_the_call() {
    use mcp_gateway_metrics::catalog::Metric;

    let InProcess { server, .. } = in_process(None).await;
    // A raw MCP session over HTTP, so that the test decides when the connection closes.
    let url = format!("http://{}/mcp", server.addr);
    let http = reqwest::Client::new();
    let post = |body: Value, session: Option<&str>| {
        let mut request = http
            .post(&url)
            .header("x-gateway-key", "demo-key")
            .header("x-project-id", "p3")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-06-18");
        }
        request.body(body.to_string()).send()
    };
    let init = post(
        json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": { "name": "raw", "version": "1" } } }),
        None,
    )
    .await
    .unwrap();
    let session = init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    init.text().await.unwrap();
    post(
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        Some(&session),
    )
    .await
    .unwrap();

    let cancelled = || {
        mcp_gateway_metrics::read::snapshot().unwrap().counter(
            Metric::ToolCallFailure,
            &[
                ("server_name", "slow"),
                ("tool_name", "analyze"),
                ("error_type", "cancelled"),
            ],
        )
    };
    // Connected to the slow server and its tools cached, so that the call below reaches its
    // guarded part at once.
    let warm = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "enkrypt_secure_call_tools", "arguments": analyze(0) } });
    post(warm, Some(&session))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let successes = || {
        mcp_gateway_metrics::read::snapshot().unwrap().counter(
            Metric::ToolCallSuccess,
            &[("server_name", "slow"), ("tool_name", "analyze")],
        )
    };
    let (before, succeeded) = (cancelled(), successes());
    // A call that takes 5 s upstream; the client closes its connection once it started.
    let call = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "enkrypt_secure_call_tools", "arguments": analyze(5_000) } });
    let response = post(call, Some(&session)).await.unwrap();
    assert_eq!(response.status(), 200);
    // Close it once the call is in its guarded part (the only timeout operations running now:
    // guardrails, then the upstream call).
    let in_flight = || {
        mcp_gateway_metrics::read::snapshot()
            .unwrap()
            .gauge(Metric::TimeoutActiveOperations, &[])
    };
    let started = Instant::now();
    while in_flight() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never in flight"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(response);
    // Had the work run on, the call would end as a success after 5 s; it ends cancelled.
    let started = Instant::now();
    while cancelled() == before {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the call was not cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(successes(), succeeded);
    server.abort();
}

/// This process's children whose command line contains `marker`.
fn children_with(marker: &str) -> Vec<i32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // pid (comm) state ppid ...: the fields after the last ')'.
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().nth(1));
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            ppid == Some(me.as_str()) && String::from_utf8_lossy(&cmdline).contains(marker)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_killed_between_calls_costs_no_failed_call() {
    let InProcess {
        gateway, server, ..
    } = in_process(Some(json!({ "gateway_key": "k", "servers": [{
        "name": "inner",
        "command": tests::binaries::example_path("gateway"),
        "args": ["--stdio"],
        "env": {
            "ENKRYPT_GATEWAY_KEY": "demo-key",
            "ENKRYPT_PROJECT_ID": "p1",
            "MCP_METRICS_PROMETHEUS_ADDRESS": "127.0.0.1:0"
        },
        "guardrails": { "input": { "enabled": false }, "output": { "enabled": false } }
    }] })))
    .await;
    let client = connect(server.addr, "k", "p1", "u1").await.unwrap();
    let status =
        json!({ "server_name": "inner", "tool_calls": [{ "name": "enkrypt_get_cache_status" }] });
    let first = call(&client, "enkrypt_secure_call_tools", status.clone())
        .await
        .unwrap();
    assert_eq!(first[0]["status"], "success", "{first}");

    // The upstream process dies between two calls.
    let upstreams = children_with("--stdio");
    assert_eq!(upstreams.len(), 1, "one stdio upstream: {upstreams:?}");
    // SAFETY: kill(2) on a child of this process.
    assert_eq!(unsafe { libc::kill(upstreams[0], libc::SIGKILL) }, 0);
    let started = Instant::now();
    while std::fs::read_to_string(format!("/proc/{}/stat", upstreams[0])).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    }) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the upstream did not die"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The gateway notices (its rmcp connection's serve loop ends on the closed pipe)...
    let started = Instant::now();
    while gateway.upstreams.connected("inner").await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the death went unnoticed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...and the next call reconnects: no call fails because the old connection was dead.
    let second = call(&client, "enkrypt_secure_call_tools", status)
        .await
        .unwrap();
    assert_eq!(second[0]["status"], "success", "{second}");
    server.abort();
}
