//! A server configured by `url` is reached over streamable HTTP: here a built-in demo server
//! served over HTTP, behind a gateway loaded from a config file.

use examples::gateway::workload::{call, connect};
use serde_json::{json, Value};

fn secure(server: &str, tool: &str, args: Value) -> Value {
    json!({ "server_name": server, "tool_calls": [{ "name": tool, "args": args }] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_http_upstream_is_reached_over_streamable_http() {
    use examples::gateway::config::GatewayConfig;
    use examples::gateway::demo_servers;
    use examples::gateway::server::{serve_http, Gateway};

    let (upstream, upstream_task) =
        demo_servers::serve_http("github", "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let dir = std::env::temp_dir().join(format!("gw-http-upstream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("remote.json");
    std::fs::write(
        &path,
        json!({ "gateway_key": "k", "servers": [{ "name": "remote", "url": format!("http://{upstream}/mcp") }] }).to_string(),
    )
    .unwrap();
    let gateway = Gateway::new(GatewayConfig::load(&path).unwrap(), "remote");
    let server = serve_http(gateway, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.addr;
    let client = connect(addr, "k", "p1", "u1").await.unwrap();
    let tools = call(
        &client,
        "enkrypt_discover_all_tools",
        json!({ "server_name": "remote" }),
    )
    .await
    .unwrap();
    assert_eq!(
        tools["remote"],
        json!(["create_issue", "get_file", "search_code"]),
        "{tools}"
    );
    let result = call(
        &client,
        "enkrypt_secure_call_tools",
        secure("remote", "search_code", json!({ "query": "rust metrics" })),
    )
    .await
    .unwrap();
    assert!(
        result[0]["result"]
            .as_str()
            .unwrap()
            .contains("rust metrics"),
        "{result}"
    );
    client.cancel().await.unwrap();
    server.abort();
    upstream_task.abort();
    let _ = std::fs::remove_dir_all(dir);
}
