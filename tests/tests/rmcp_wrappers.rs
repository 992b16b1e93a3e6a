//! The rmcp wrappers through real rmcp clients and servers, in-process and over streamable
//! HTTP: exact values for success, tool error, MCP error, unknown tool, upstream crash,
//! cancellation and deadline; the tool-call invariant; no client-supplied string as a label.
//!
//! Each test runs on its own current-thread runtime, so the rmcp tasks it spawns record into
//! its `TestMeter`.

use std::sync::Arc;
use std::time::Duration;

use mcp_gateway_metrics::mcp::{MeteredClient, MeteredServer, ToolTimeout, UNLISTED_TOOL};
use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::tool_call;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock};
use rmcp::service::{RoleClient, RoleServer, RunningService, ServiceError};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler, ServiceExt};
use tokio::sync::Notify;

/// A server with one tool per outcome.
#[derive(Clone)]
struct Demo {
    /// Told when `hang` starts.
    hanging: Arc<Notify>,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Demo {
    fn new() -> Self {
        Demo {
            hanging: Arc::new(Notify::new()),
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "Answers")]
    async fn ok(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::success(vec![ContentBlock::text("fine")]))
    }

    #[tool(description = "A tool error")]
    async fn fail(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::error(vec![ContentBlock::text("no")]))
    }

    #[tool(description = "An MCP error")]
    async fn broken(&self) -> Result<CallToolResult, ErrorData> {
        Err(ErrorData::internal_error("broken", None))
    }

    #[tool(description = "Never answers")]
    async fn hang(&self) -> Result<CallToolResult, ErrorData> {
        self.hanging.notify_one();
        std::future::pending().await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Demo {}

type Client = RunningService<RoleClient, ()>;

/// `handler` served in-process, and a plain rmcp client of it.
async fn in_process<S: rmcp::Service<RoleServer>>(
    handler: S,
) -> (Client, RunningService<RoleServer, S>) {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(handler.serve(server_io));
    let client = ().serve(client_io).await.expect("client connects");
    let server = server.await.unwrap().expect("server starts");
    (client, server)
}

fn call(tool: &str) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned())
}

/// Polls `done` until it holds (bounded: 5 s).
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// calls = success + failure (summed over error_type) for `server`.
fn assert_invariant(meter: &TestMeter, server: &str) {
    let s = [("server_name", server)];
    let calls = meter.counter("enkrypt_tool_calls_total", &s);
    let success = meter.counter("enkrypt_tool_call_success_total", &s);
    let failure = meter.counter("enkrypt_tool_call_failure_total", &s);
    assert_eq!(calls, success + failure, "invariant for {server}");
    assert_eq!(
        meter
            .histogram("enkrypt_tool_call_duration_seconds", &s)
            .count,
        calls
    );
}

#[tokio::test]
async fn client_records_each_outcome_with_listed_tool_names_only() {
    let meter = TestMeter::new();
    let (client, _server) = in_process(Demo::new()).await;
    let up = MeteredClient::new("up", client.peer().clone());

    for _ in 0..2 {
        up.call_tool(call("ok")).await.unwrap();
    }
    assert_eq!(
        up.call_tool(call("fail")).await.unwrap().is_error,
        Some(true)
    );
    assert!(matches!(
        up.call_tool(call("broken")).await,
        Err(ServiceError::McpError(_))
    ));
    let hostile = "nope\"}\n<script>";
    assert!(up.call_tool(call(hostile)).await.is_err());

    let tool = |t| [("server_name", "up"), ("tool_name", t)];
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &tool("ok")), 2);
    assert_eq!(
        meter.counter("enkrypt_tool_call_success_total", &tool("ok")),
        2
    );
    let failures = |t, e| {
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[("server_name", "up"), ("tool_name", t), ("error_type", e)],
        )
    };
    assert_eq!(failures("fail", "tool_error"), 1);
    assert_eq!(failures("broken", "internal_error"), 1);
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &tool(UNLISTED_TOOL)),
        1
    );
    assert_eq!(
        meter.counter("enkrypt_tool_call_failure_total", &tool(UNLISTED_TOOL)),
        1
    );
    assert_eq!(meter.counter("enkrypt_tool_call_error_counter", &[]), 0);
    assert_invariant(&meter, "up");
    // The first call listed the tools once: one server discovered, under the default config.
    assert_eq!(
        meter.counter(
            "enkrypt_servers_discovered",
            &[("mcp_config_id", "default")]
        ),
        1
    );
    assert!(!meter.render().contains("nope"), "{}", meter.render());
    // No deadline configured: no tool_execution operation, only the listing's discovery.
    let op = |t| [("operation_type", t)];
    assert_eq!(
        meter.counter("enkrypt_timeout_operations_total", &op("tool_execution")),
        0
    );
    assert_eq!(
        meter.counter("enkrypt_timeout_operations_successful", &op("discovery")),
        1
    );
}

#[tokio::test]
async fn an_upstream_that_goes_away_mid_call_is_a_crash() {
    let meter = TestMeter::new();
    let demo = Demo::new();
    let hanging = Arc::clone(&demo.hanging);
    let (client, server) = in_process(demo).await;
    let up = MeteredClient::new("up", client.peer().clone());
    up.list_tools().await.unwrap();

    let pending = up.call_tool(call("hang"));
    let kill = async {
        hanging.notified().await;
        server.cancellation_token().cancel();
    };
    let (result, ()) = tokio::join!(pending, kill);
    assert!(
        matches!(result, Err(ServiceError::TransportClosed)),
        "{result:?}"
    );

    let crash = [("server_name", "up"), ("error_type", "transport_closed")];
    assert_eq!(meter.counter("enkrypt_tool_call_failure_total", &crash), 1);
    assert_eq!(meter.counter("enkrypt_tool_call_error_counter", &crash), 1);
    assert_invariant(&meter, "up");
}

#[tokio::test]
async fn a_dropped_call_is_cancelled() {
    let meter = TestMeter::new();
    let demo = Demo::new();
    let hanging = Arc::clone(&demo.hanging);
    let (client, _server) = in_process(demo).await;
    let up = MeteredClient::new("up", client.peer().clone());
    up.list_tools().await.unwrap();

    tokio::select! {
        _ = up.call_tool(call("hang")) => panic!("hang answered"),
        _ = hanging.notified() => {}
    }

    let cancelled = [
        ("server_name", "up"),
        ("tool_name", "hang"),
        ("error_type", "cancelled"),
    ];
    assert_eq!(
        meter.counter("enkrypt_tool_call_failure_total", &cancelled),
        1
    );
    assert_eq!(
        meter.counter("enkrypt_tool_call_error_counter", &cancelled[..1]),
        1
    );
    assert_invariant(&meter, "up");
}

#[tokio::test]
async fn the_deadline_cuts_the_call_off_at_both_ends() {
    let meter = TestMeter::new();
    // Both sides metered, under different server names.
    let (client, _server) = in_process(MeteredServer::new("down", Demo::new())).await;
    let up = MeteredClient::new("up", client.peer().clone())
        .tool_timeout(ToolTimeout::Enforced(Some(Duration::from_millis(200))));

    let result = up.call_tool(call("hang")).await;
    assert!(
        matches!(result, Err(ServiceError::Timeout { timeout }) if timeout == Duration::from_millis(200)),
        "{result:?}"
    );

    let timeout = [
        ("server_name", "up"),
        ("tool_name", "hang"),
        ("error_type", "timeout"),
    ];
    assert_eq!(
        meter.counter("enkrypt_tool_call_failure_total", &timeout),
        1
    );
    assert_eq!(meter.counter("enkrypt_tool_call_error_counter", &[]), 0);
    let op = [("operation_type", "tool_execution")];
    assert_eq!(meter.counter("enkrypt_timeout_operations_total", &op), 1);
    assert_eq!(
        meter.counter("enkrypt_timeout_operations_timed_out", &op),
        1
    );
    assert_eq!(meter.counter("enkrypt_timeout_escalation_timeout", &op), 1);
    assert_eq!(meter.gauge("enkrypt_timeout_active_operations", &[]), 0);
    assert_invariant(&meter, "up");

    // The client cancelled the request: the server dropped the work and recorded it so.
    let cancelled = [
        ("server_name", "down"),
        ("tool_name", "hang"),
        ("error_type", "cancelled"),
    ];
    eventually("the server's cancellation", || {
        meter.counter("enkrypt_tool_call_failure_total", &cancelled) == 1
    })
    .await;
    assert_invariant(&meter, "down");
}

#[tokio::test]
async fn an_observed_timeout_lets_the_call_finish() {
    let meter = TestMeter::new();
    let (client, _server) = in_process(Demo::new()).await;
    let up = MeteredClient::new("up", client.peer().clone())
        .tool_timeout(ToolTimeout::Observed(Some(Duration::from_secs(30))));
    up.call_tool(call("ok")).await.unwrap();
    let op = [("operation_type", "tool_execution")];
    assert_eq!(
        meter.counter("enkrypt_timeout_operations_successful", &op),
        1
    );
    assert_eq!(meter.counter("enkrypt_tool_call_success_total", &[]), 1);
}

#[derive(Debug)]
struct Upstream(ServiceError);

/// A gateway step around the upstream call: the enclosing call counts it, once.
#[tool_call]
async fn gateway_call(
    server_name: &str,
    tool_name: &str,
    client: &MeteredClient,
) -> Result<CallToolResult, Upstream> {
    client.call_tool(call(tool_name)).await.map_err(Upstream)
}

#[tokio::test]
async fn inside_a_tool_call_the_client_does_not_count_again() {
    let meter = TestMeter::new();
    let (client, _server) = in_process(Demo::new()).await;
    let up = MeteredClient::new("up", client.peer().clone());
    gateway_call("gateway", "ok", &up).await.unwrap();
    let Upstream(error) = gateway_call("gateway", "broken", &up).await.unwrap_err();
    assert!(matches!(error, ServiceError::McpError(_)), "{error:?}");
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &[("server_name", "gateway")]),
        2
    );
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &[("server_name", "up")]),
        0
    );
    assert_invariant(&meter, "gateway");
}

#[tokio::test]
async fn listing_records_discovery_and_the_tools_cache() {
    let meter = TestMeter::new();
    let (client, _server) = in_process(Demo::new()).await;
    let up = MeteredClient::new("up", client.peer().clone())
        .config_id("cfg-1")
        .cache_tools(Duration::from_secs(60));
    assert_eq!(up.list_tools().await.unwrap().len(), 4);
    assert_eq!(up.list_tools().await.unwrap().len(), 4);
    up.clear_tools_cache();
    up.list_tools().await.unwrap();

    let tools = [("cache_type", "tools")];
    assert_eq!(meter.counter("enkrypt_cache_misses_total", &tools), 2);
    assert_eq!(meter.counter("enkrypt_cache_hits_total", &tools), 1);
    assert_eq!(
        meter.counter("enkrypt_servers_discovered", &[("mcp_config_id", "cfg-1")]),
        3,
        "every discovery that found tools, the cached one too"
    );
    let discovery = [("operation_type", "discovery")];
    assert_eq!(
        meter.counter("enkrypt_timeout_operations_successful", &discovery),
        2
    );
}

#[tokio::test]
async fn server_over_streamable_http_records_calls_and_sessions() {
    let meter = TestMeter::new();
    let service = StreamableHttpService::new(
        || Ok(MeteredServer::new("srv", Demo::new())),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default(),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let http = tokio::spawn(async move { axum::serve(listener, router).await });

    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url.as_str()))
            .await
            .expect("client connects over HTTP");
    eventually("the session", || {
        meter.gauge("enkrypt_active_sessions", &[]) == 1
    })
    .await;

    client.call_tool(call("ok")).await.unwrap();
    client.call_tool(call("fail")).await.unwrap();
    client.call_tool(call("broken")).await.unwrap_err();
    client.call_tool(call("drop table")).await.unwrap_err();

    let tool = |t| [("server_name", "srv"), ("tool_name", t)];
    assert_eq!(
        meter.counter("enkrypt_tool_call_success_total", &tool("ok")),
        1
    );
    assert_eq!(
        meter.counter("enkrypt_tool_call_failure_total", &tool("fail")),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[("tool_name", "broken"), ("error_type", "internal_error")]
        ),
        1
    );
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &tool(UNLISTED_TOOL)),
        1
    );
    assert!(!meter.render().contains("drop table"));
    assert_invariant(&meter, "srv");

    client.cancel().await.unwrap();
    eventually("the session's end", || {
        meter.gauge("enkrypt_active_sessions", &[]) == 0
    })
    .await;
    http.abort();
}

#[tokio::test]
async fn a_request_the_client_cancels_ends_cancelled_at_the_server() {
    let meter = TestMeter::new();
    let demo = Demo::new();
    let hanging = Arc::clone(&demo.hanging);
    let (client, _server) = in_process(MeteredServer::new("srv", demo)).await;
    // A plain client: dropping its call sends notifications/cancelled.
    tokio::select! {
        _ = client.call_tool(call("hang")) => panic!("hang answered"),
        _ = hanging.notified() => {}
    }
    let cancelled = [("server_name", "srv"), ("error_type", "cancelled")];
    eventually("the server's cancellation", || {
        meter.counter("enkrypt_tool_call_failure_total", &cancelled) == 1
    })
    .await;
    assert_eq!(
        meter.counter("enkrypt_tool_call_error_counter", &cancelled),
        1
    );
    assert_invariant(&meter, "srv");
    assert_eq!(meter.gauge("enkrypt_active_sessions", &[]), 1);
}
