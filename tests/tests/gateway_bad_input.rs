//! Bad input gets a clear MCP error and changes no state: unknown server, unknown tool,
//! malformed arguments, missing or wrong gateway key, an upstream that crashes mid-call.

use examples::gateway::workload::{call, connect};
use serde_json::{json, Value};
use tests::gateway_harness::Harness;

fn secure(server: &str, tool: &str, args: Value) -> Value {
    json!({ "server_name": server, "tool_calls": [{ "name": tool, "args": args }] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_clear_mcp_error_and_changes_nothing() {
    let h = Harness::start().await;
    let client = connect(h.addr, "demo-key", "p1", "u1").await.unwrap();
    // Warm up: the tools of every server are cached.
    call(&client, "enkrypt_discover_all_tools", json!({}))
        .await
        .unwrap();
    let status = call(&client, "enkrypt_get_cache_status", json!({}))
        .await
        .unwrap();
    let calls_before = h.value("enkrypt_tool_calls_total", &[]);

    let err = call(
        &client,
        "enkrypt_secure_call_tools",
        secure("gitlab", "search_code", json!({})),
    )
    .await
    .unwrap_err();
    assert!(err.contains("unknown server \"gitlab\""), "{err}");
    let err = call(
        &client,
        "enkrypt_get_server_info",
        json!({ "server_name": "gitlab" }),
    )
    .await
    .unwrap_err();
    assert!(err.contains("unknown server"), "{err}");
    let err = call(
        &client,
        "enkrypt_secure_call_tools",
        secure("github", "delete_repo", json!({})),
    )
    .await
    .unwrap_err();
    assert!(err.contains("has no tool \"delete_repo\""), "{err}");
    let err = call(
        &client,
        "enkrypt_secure_call_tools",
        json!({ "server_name": "github", "tool_calls": "all of them" }),
    )
    .await
    .unwrap_err();
    assert!(err.to_lowercase().contains("invalid"), "{err}");
    let err = call(
        &client,
        "enkrypt_clear_cache",
        json!({ "cache_type": "everything" }),
    )
    .await
    .unwrap_err();
    assert!(err.contains("unknown cache_type"), "{err}");

    // None of it reached an upstream, became a label, or touched a cache.
    assert_eq!(h.value("enkrypt_tool_calls_total", &[]), calls_before);
    assert_eq!(
        h.value("enkrypt_tool_calls_total", &[("server_name", "gitlab")]),
        0.0
    );
    assert_eq!(
        h.value("enkrypt_tool_calls_total", &[("tool_name", "delete_repo")]),
        0.0
    );
    assert_eq!(
        call(&client, "enkrypt_get_cache_status", json!({}))
            .await
            .unwrap(),
        status
    );

    // Credentials: a caller without the key is refused before any session exists (the
    // refusal names what is missing); a non-ASCII key is a wrong key, not a missing one.
    let sessions = h.value("enkrypt_active_sessions", &[]);
    for (key, expected) in [
        ("", "missing gateway key"),
        ("guess", "invalid gateway key"),
        ("clé-ü", "invalid gateway key"),
    ] {
        let err = connect(h.addr, key, "p1", "u2")
            .await
            .err()
            .unwrap_or_else(|| panic!("key {key:?} was let in"));
        assert!(err.contains("401") && err.contains(expected), "{err}");
    }
    assert_eq!(h.value("enkrypt_active_sessions", &[]), sessions);
    let no_project = connect(h.addr, "demo-key", "", "u4").await.unwrap();
    let err = call(&no_project, "enkrypt_get_cache_status", json!({}))
        .await
        .unwrap_err();
    assert!(err.contains("missing project"), "{err}");
    let failures = |reason| {
        h.value(
            "enkrypt_auth_failure_total",
            &[("auth_provider", "api_key"), ("failure_reason", reason)],
        )
    };
    assert_eq!(
        (
            failures("missing_key"),
            failures("invalid_key"),
            failures("missing_project")
        ),
        (1.0, 2.0, 1.0)
    );
    assert_eq!(h.value("enkrypt_list_all_servers_calls", &[]), 0.0);

    // An upstream that crashes mid-call: a clear error, counted as a crash; the next call
    // reconnects and works.
    let err = call(
        &client,
        "enkrypt_secure_call_tools",
        secure("flaky", "fetch", json!({ "url": "crash://now" })),
    )
    .await
    .unwrap_err();
    assert!(err.contains("unavailable"), "{err}");
    let flaky = [
        ("server_name", "flaky"),
        ("error_type", "upstream_unavailable"),
    ];
    assert_eq!(h.value("enkrypt_tool_call_error_counter", &flaky), 1.0);
    let ok = call(
        &client,
        "enkrypt_secure_call_tools",
        secure("flaky", "fetch", json!({ "url": "https://example.com" })),
    )
    .await
    .unwrap();
    assert_eq!(ok[0]["status"], "success", "{ok}");
    assert_eq!(
        call(&client, "enkrypt_get_cache_status", json!({}))
            .await
            .unwrap(),
        status
    );
}
