//! The example programs run as users run them: `quickstart --print` prints all 32 metric
//! families; `gateway --simulate` serves MCP, drives its workload and prints SLIs; `gateway
//! --stdio` answers a real MCP client over stdio.

use std::process::Command;

use mcp_gateway_metrics::catalog::CATALOG;
use tests::binaries::{example, example_path, terminate, ChildLines};
use tests::exposition::parse;

fn quickstart() -> Command {
    example("quickstart")
}

#[test]
fn the_quickstart_prints_every_family_of_the_catalog() {
    let output = quickstart()
        .arg("--print")
        .output()
        .expect("the quickstart runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "quickstart failed: {stderr}");
    let text = String::from_utf8(output.stdout).unwrap();
    let families = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for def in CATALOG {
        let family = families
            .get(def.name)
            .unwrap_or_else(|| panic!("{} missing", def.name));
        assert!(
            family.samples.iter().any(|(_, _, v)| *v > 0.0)
                || def.name == "enkrypt_timeout_active_operations",
            "{} has no non-zero sample",
            def.name
        );
    }
    assert_eq!(
        families["enkrypt_active_sessions"].value("enkrypt_active_sessions", &[]),
        1.0
    );
    assert_eq!(
        families["enkrypt_timeout_active_operations"]
            .value("enkrypt_timeout_active_operations", &[]),
        0.0
    );
}

#[test]
fn the_gateway_serves_its_workload_and_prints_slis() {
    let output = example("gateway")
        .args(["--listen", "127.0.0.1:0", "--simulate", "1s"])
        .env("MCP_METRICS_PROMETHEUS_ADDRESS", "127.0.0.1:0")
        .output()
        .expect("the gateway runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("MCP at http://127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("/metrics"), "{stderr}");
    assert!(
        stdout.contains("SLIs (from the gateway's metrics)"),
        "{stdout}"
    );
    let line = |label: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line in {stdout}"))
            .to_owned()
    };
    assert!(line("success rate").ends_with('%'), "{stdout}");
    assert!(!line("tool calls").contains(" 0 ("), "{stdout}");
}

#[tokio::test]
async fn the_gateway_answers_an_mcp_client_over_stdio() {
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::TokioChildProcess;
    use rmcp::ServiceExt;

    let std_cmd = example("gateway");
    let mut cmd = tokio::process::Command::from(std_cmd);
    cmd.arg("--stdio")
        .env("MCP_METRICS_PROMETHEUS_ADDRESS", "127.0.0.1:0")
        .env("ENKRYPT_GATEWAY_KEY", "demo-key")
        .env("ENKRYPT_PROJECT_ID", "p2");
    let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 7, "{tools:?}");
    let result = client
        .call_tool(CallToolRequestParams::new("enkrypt_list_all_servers"))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let text = format!("{:?}", result.content);
    assert!(text.contains("github") && text.contains("flaky"), "{text}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_stdio_upstream_is_a_real_child_process() {
    use examples::gateway::config::GatewayConfig;
    use examples::gateway::server::{serve_http, Gateway};
    use examples::gateway::workload::{call, connect};
    use serde_json::json;

    // The upstream is another gateway, serving MCP over stdio as a child process (the prebuilt
    // example binary, or `cargo run --example gateway` when there is none).
    let upstream = example("gateway");
    let mut args: Vec<String> = upstream
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    args.push("--stdio".into());
    let dir = std::env::temp_dir().join(format!("gateway-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("nested.json");
    let config = json!({
        "gateway_key": "outer-key",
        "servers": [{
            "name": "inner",
            "command": upstream.get_program().to_string_lossy(),
            "args": args,
            "env": {
                "ENKRYPT_GATEWAY_KEY": "demo-key",
                "ENKRYPT_PROJECT_ID": "p3",
                "MCP_METRICS_PROMETHEUS_ADDRESS": "127.0.0.1:0"
            },
            "guardrails": { "input": { "enabled": false }, "output": { "enabled": false } }
        }]
    });
    std::fs::write(&path, config.to_string()).unwrap();
    let config = GatewayConfig::load(&path).unwrap();

    let gateway = Gateway::new(config, "nested");
    let server = serve_http(gateway, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.addr;
    let client = connect(addr, "outer-key", "p1", "u1").await.unwrap();
    let tools = call(
        &client,
        "enkrypt_discover_all_tools",
        json!({ "server_name": "inner" }),
    )
    .await
    .unwrap();
    assert_eq!(tools["inner"].as_array().map(Vec::len), Some(7), "{tools}");
    let result = call(
        &client,
        "enkrypt_secure_call_tools",
        json!({ "server_name": "inner", "tool_calls": [{ "name": "enkrypt_get_cache_status" }] }),
    )
    .await
    .unwrap();
    assert_eq!(result[0]["status"], "success", "{result}");
    assert!(
        result[0]["result"]
            .as_str()
            .unwrap()
            .contains("tools_ttl_secs"),
        "{result}"
    );
    client.cancel().await.unwrap();
    server.abort();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_mcp_server_example_is_metered_by_its_wrapper_alone() {
    use std::process::Stdio;

    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::ServiceExt;
    use serde_json::json;

    let mut child = example("mcp-server")
        .args(["--listen", "127.0.0.1:0"])
        .env("MCP_METRICS_PROMETHEUS_ADDRESS", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mcp-server example starts");
    let mut lines = ChildLines::of(&mut child);
    let mcp = lines.after("MCP at ");
    let metrics = lines.after("metrics at ");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client =
            ().serve(StreamableHttpClientTransport::from_uri(mcp.as_str()))
                .await
                .expect("an MCP client connects");
        let call = |name: &str, args: serde_json::Value| {
            let params = CallToolRequestParams::new(name.to_owned())
                .with_arguments(args.as_object().unwrap().clone());
            client.call_tool(params)
        };
        let saved = call("write", json!({"title": "a", "text": "hello"})).await;
        assert_ne!(saved.unwrap().is_error, Some(true));
        let read = call("read", json!({"title": "a"})).await.unwrap();
        assert!(format!("{:?}", read.content).contains("hello"));
        let missing = call("read", json!({"title": "zzz"})).await.unwrap();
        assert_eq!(missing.is_error, Some(true));
        call("secret-admin-tool", json!({})).await.unwrap_err();

        let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
        let families = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let value = |family: &str, series: &str, labels: &[(&str, &str)]| {
            families
                .get(family)
                .map_or(0.0, |f| f.value(series, labels))
        };
        let calls = |tool| {
            value(
                "enkrypt_tool_calls_total",
                "enkrypt_tool_calls_total",
                &[("server_name", "notes"), ("tool_name", tool)],
            )
        };
        assert_eq!(calls("write"), 1.0, "{text}");
        assert_eq!(calls("read"), 2.0, "{text}");
        assert_eq!(calls("_unlisted"), 1.0, "{text}");
        assert_eq!(
            value(
                "enkrypt_tool_call_failure_total",
                "enkrypt_tool_call_failure_total",
                &[("tool_name", "read"), ("error_type", "tool_error")]
            ),
            1.0
        );
        assert_eq!(
            value("enkrypt_active_sessions", "enkrypt_active_sessions", &[]),
            1.0
        );
        assert!(!text.contains("secret-admin-tool"));
        client.cancel().await.unwrap();
    });

    // SIGTERM: it stops by itself, successfully.
    let status = terminate(&mut child, std::time::Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_load_generator_drives_a_gateway_binary_and_reports() {
    let gateway_bin = example_path("gateway");
    let output = example("loadgen")
        .args([
            "--gateway",
            &gateway_bin,
            "--sessions",
            "2",
            "--duration",
            "2s",
        ])
        .args(["--max-calls", "50"])
        .output()
        .expect("loadgen runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Exactly the bounded number of calls, none failed.
    assert!(stdout.contains(": 50 calls (0 errors)"), "{stdout}");
    assert!(stdout.contains("calls/s; p50 "), "{stdout}");
}
