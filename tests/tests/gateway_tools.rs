//! A real MCP client calls every gateway tool over streamable HTTP; the metrics are checked
//! exactly.

use std::time::Duration;

use examples::gateway::workload::{call, connect};
use serde_json::json;
use tests::gateway_harness::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gateway_tool_records_exactly_what_it_did() {
    let h = Harness::start().await;
    let client = connect(h.addr, "demo-key", "p1", "u1").await.unwrap();

    // 1. List the servers and discover their tools.
    let servers = call(
        &client,
        "enkrypt_list_all_servers",
        json!({ "discover_tools": true }),
    )
    .await
    .unwrap();
    assert_eq!(servers.as_array().unwrap().len(), 3, "{servers}");
    assert_eq!(
        servers[0]["tools"],
        json!(["create_issue", "get_file", "search_code"]),
        "{servers}"
    );
    assert_eq!(
        h.value(
            "enkrypt_list_all_servers_calls",
            &[("user_id", "u1"), ("project_id", "p1")]
        ),
        1.0
    );
    assert_eq!(
        h.value("enkrypt_servers_discovered", &[("mcp_config_id", "demo")]),
        3.0
    );
    assert_eq!(
        h.value(
            "enkrypt_cache_misses_total",
            &[("cache_type", "gateway_config")]
        ),
        1.0
    );
    assert_eq!(
        h.value("enkrypt_cache_misses_total", &[("cache_type", "tools")]),
        3.0
    );
    assert_eq!(
        h.value(
            "enkrypt_timeout_operations_successful",
            &[("operation_type", "discovery")]
        ),
        3.0
    );
    assert_eq!(
        h.value(
            "enkrypt_timeout_operations_successful",
            &[("operation_type", "connectivity")]
        ),
        3.0
    );

    // 2. One server's info: its configuration from the config cache, its tools from the cache.
    let info = call(
        &client,
        "enkrypt_get_server_info",
        json!({ "server_name": "github" }),
    )
    .await
    .unwrap();
    assert_eq!(info["name"], "github");
    assert_eq!(
        h.value(
            "enkrypt_cache_misses_total",
            &[("cache_type", "server_config")]
        ),
        1.0
    );
    assert_eq!(
        h.value("enkrypt_cache_hits_total", &[("cache_type", "tools")]),
        1.0
    );

    // 3. Discovery of one server, from the cache.
    let tools = call(
        &client,
        "enkrypt_discover_all_tools",
        json!({ "server_name": "slow" }),
    )
    .await
    .unwrap();
    assert_eq!(tools["slow"], json!(["analyze"]));
    assert_eq!(
        h.value("enkrypt_cache_hits_total", &[("cache_type", "tools")]),
        2.0
    );
    assert_eq!(h.value("enkrypt_servers_discovered", &[]), 4.0);

    // 4. A guarded tool call.
    let result = call(
        &client,
        "enkrypt_secure_call_tools",
        json!({ "server_name": "github", "tool_calls": [{ "name": "search_code", "args": { "query": "timeout handling" } }] }),
    )
    .await
    .unwrap();
    assert_eq!(result[0]["status"], "success", "{result}");
    let github = [("server_name", "github"), ("tool_name", "search_code")];
    assert_eq!(
        h.value(
            "enkrypt_tool_calls_total",
            &[github[0], github[1], ("project_id", "p1")]
        ),
        1.0
    );
    assert_eq!(h.value("enkrypt_tool_call_success_total", &github), 1.0);
    assert_eq!(h.value("enkrypt_tool_call_failure_total", &[]), 0.0);
    assert_eq!(
        h.value("enkrypt_tool_call_duration_seconds_count", &github),
        1.0
    );
    for endpoint in [
        "/guardrails/pii",
        "/guardrails/policy/detect",
        "/guardrails/batch/detect",
    ] {
        let e = [("endpoint", endpoint)];
        assert_eq!(
            h.value(
                "enkrypt_api_requests_total",
                &[e[0], ("status_code", "200")]
            ),
            1.0,
            "{endpoint}"
        );
        assert_eq!(
            h.value("enkrypt_api_request_duration_seconds_count", &e),
            1.0,
            "{endpoint}"
        );
    }
    assert_eq!(h.value("enkrypt_guardrail_violations_total", &[]), 0.0);
    assert_eq!(
        h.value("enkrypt_cache_hits_total", &[("cache_type", "tools")]),
        3.0
    );
    let op = |name: &str, op: &str| h.value(name, &[("operation_type", op)]);
    assert_eq!(
        op("enkrypt_timeout_operations_total", "tool_execution"),
        1.0
    );
    assert_eq!(
        op("enkrypt_timeout_operations_successful", "tool_execution"),
        1.0
    );
    assert_eq!(
        op("enkrypt_timeout_operations_successful", "guardrail"),
        3.0
    );

    // 5. Cache status.
    let status = call(&client, "enkrypt_get_cache_status", json!({}))
        .await
        .unwrap();
    assert_eq!(
        (
            status["tools"].as_u64(),
            status["gateway_config"].as_u64(),
            status["server_config"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );

    // 6. Clear the tools cache.
    let cleared = call(
        &client,
        "enkrypt_clear_cache",
        json!({ "cache_type": "tools" }),
    )
    .await
    .unwrap();
    assert_eq!(cleared["cleared"], 3);

    // 7. The timeout manager's counters, read back from the metrics.
    let timeouts = call(&client, "enkrypt_get_timeout_metrics", json!({}))
        .await
        .unwrap();
    assert_eq!(
        timeouts["by_operation_type"]["tool_execution"]["operations_total"], 1.0,
        "{timeouts}"
    );
    // In-memory cache lookups and key comparisons cannot time out: no operations of theirs.
    assert_eq!(
        timeouts["by_operation_type"]["cache"]["operations_total"], 0.0,
        "{timeouts}"
    );

    // Every call authenticated once; six cache lookups (3 misses, 3 hits), none a timeout
    // operation.
    assert_eq!(
        h.value(
            "enkrypt_auth_success_total",
            &[("auth_provider", "api_key"), ("project_id", "p1")]
        ),
        7.0
    );
    assert_eq!(op("enkrypt_timeout_operations_total", "auth"), 0.0);
    assert_eq!(op("enkrypt_timeout_operations_total", "cache"), 0.0);
    assert_eq!(h.value("enkrypt_auth_failure_total", &[]), 0.0);

    // Sessions and users come back to zero once the client has gone.
    client.cancel().await.unwrap();
    for _ in 0..50 {
        if h.value("enkrypt_active_sessions", &[]) == 0.0
            && h.value("enkrypt_active_users", &[]) == 0.0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(h.value("enkrypt_active_sessions", &[]), 0.0);
    assert_eq!(h.value("enkrypt_active_users", &[]), 0.0);
    assert_eq!(h.value("enkrypt_timeout_active_operations", &[]), 0.0);
}
