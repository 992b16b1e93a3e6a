//! The gateway's MCP server: its seven tools, each authenticated and run inside the request's
//! context, and the secure call path (PII redaction, input guardrails, upstream call, output
//! guardrails, PII restoration) as one instrumented tool call.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;
use mcp_gateway_metrics::record::{self, ActiveGuard};
use mcp_gateway_metrics::{tool_call, RequestContext};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use rmcp::service::RoleServer;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_router, ErrorData, ServerHandler};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::auth::{authenticate, check_key, Identity, UserLease, Users};
use super::cache::Caches;
use super::config::GatewayConfig;
use super::disconnect::{cancel_on_disconnect, ToolsCallId};
use super::error::{BlockReason, GatewayError};
use super::guardrails::{check_input, check_output, check_size, redact_pii, Redaction};
use super::upstream::Upstreams;

/// What all sessions share.
pub struct Gateway {
    pub config: Arc<GatewayConfig>,
    /// The `mcp_config_id` label: which configuration the servers come from.
    pub config_id: String,
    pub upstreams: Upstreams,
    pub caches: Caches,
    pub users: Users,
    /// Tool requests being served, for a graceful shutdown to wait on.
    in_flight: AtomicUsize,
}

/// One tool request in flight: counted in [`Gateway::in_flight`] until dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        InFlight(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gateway {
    pub fn new(config: GatewayConfig, config_id: &str) -> Arc<Gateway> {
        let config = Arc::new(config);
        Arc::new(Gateway {
            caches: Caches::new(Duration::from_secs(config.cache_ttl_secs)),
            upstreams: Upstreams::new(Arc::clone(&config)),
            users: Users::default(),
            in_flight: AtomicUsize::new(0),
            config_id: config_id.to_owned(),
            config,
        })
    }

    /// Tool requests being served right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Validates a call before it is instrumented, so that a wrong server or tool name (user
    /// input) never becomes a label value.
    async fn check_target(&self, server_name: &str, tool_name: &str) -> Result<(), GatewayError> {
        if self.config.server(server_name).is_none() {
            return Err(GatewayError::UnknownServer(server_name.to_owned()));
        }
        let tools = self.discover(server_name).await?;
        if tools.iter().any(|t| t.name == tool_name) {
            Ok(())
        } else {
            Err(GatewayError::UnknownTool {
                server: server_name.to_owned(),
                tool: tool_name.to_owned(),
            })
        }
    }

    /// One server's tools: from the cache, else from the server (then cached).
    async fn discover(&self, server_name: &str) -> Result<Vec<rmcp::model::Tool>, GatewayError> {
        if let Some(tools) = self.caches.tools(server_name) {
            return Ok(tools);
        }
        let tools = self.upstreams.list_tools(server_name).await?;
        self.caches.put_tools(server_name, tools.clone());
        Ok(tools)
    }

    /// The guarded call path of one tool call.
    #[tool_call]
    pub async fn secure_call(
        &self,
        server_name: &str,
        tool_name: &str,
        arguments: JsonObject,
    ) -> Result<String, GatewayError> {
        let policy = &self
            .config
            .server(server_name)
            .expect("checked before")
            .guardrails;
        let redaction = if policy.input.enabled {
            redact_pii(server_name, tool_name, &arguments).await?
        } else {
            Redaction::none(arguments)
        };
        let request_text = redaction.text();
        if policy.input.enabled {
            let verdict = check_input(server_name, tool_name, &request_text, &policy.input).await?;
            if let Some(reason) = verdict
                .block_reason
                .as_deref()
                .and_then(BlockReason::from_violation)
            {
                return Err(GatewayError::Blocked(reason));
            }
        }
        let answer = self
            .upstreams
            .call_tool(server_name, tool_name, redaction.args.clone())
            .await?;
        if policy.output.enabled {
            let verdict = check_output(
                server_name,
                tool_name,
                &request_text,
                &answer,
                &policy.output,
            )
            .await?;
            if let Some(reason) = verdict
                .block_reason
                .as_deref()
                .and_then(BlockReason::from_violation)
            {
                return Err(GatewayError::Blocked(reason));
            }
        }
        Ok(redaction.restore(&answer))
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListServersArgs {
    /// Also discover each server's tools.
    #[serde(default = "yes")]
    pub discover_tools: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ServerArgs {
    pub server_name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct DiscoverArgs {
    /// One server, or all when absent.
    #[serde(default)]
    pub server_name: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ToolCallArg {
    pub name: String,
    #[serde(default)]
    pub args: JsonObject,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SecureCallArgs {
    pub server_name: String,
    pub tool_calls: Vec<ToolCallArg>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ClearCacheArgs {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub server_name: Option<String>,
    /// all, tools, gateway_config or server_config.
    #[serde(default = "all")]
    pub cache_type: String,
}

fn all() -> String {
    "all".into()
}

/// One MCP session (or, for stateless requests, one request): counted in
/// `enkrypt_active_sessions` while it lives, and holding its user in `enkrypt_active_users`.
struct Session {
    _active: ActiveGuard,
    user: Mutex<Option<UserLease>>,
    /// Credentials of a stdio session (no HTTP headers there).
    fixed_headers: Option<HeaderMap>,
}

/// The MCP server of one session.
#[derive(Clone)]
pub struct GatewayServer {
    gateway: Arc<Gateway>,
    session: Arc<Session>,
    tool_router: ToolRouter<Self>,
}

fn json_result(value: Value) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::text(
        value.to_string(),
    )]))
}

impl GatewayServer {
    pub fn new(gateway: Arc<Gateway>, fixed_headers: Option<HeaderMap>) -> Self {
        GatewayServer {
            gateway,
            session: Arc::new(Session {
                _active: record::session_started(),
                user: Mutex::default(),
                fixed_headers,
            }),
            tool_router: Self::tool_router(),
        }
    }

    /// Authenticates the request and runs `work` for that identity, in its request context.
    async fn authorized<T, F, Fut>(
        &self,
        ctx: &rmcp::service::RequestContext<RoleServer>,
        work: F,
    ) -> Result<T, ErrorData>
    where
        F: FnOnce(Identity) -> Fut,
        Fut: std::future::Future<Output = Result<T, GatewayError>>,
    {
        let _in_flight = InFlight::enter(&self.gateway.in_flight);
        let identity = self.identify(ctx)?;
        {
            let mut user = self.session.user.lock().unwrap_or_else(|p| p.into_inner());
            if user.is_none() {
                *user = Some(self.gateway.users.lease(&identity.user_id));
            }
        }
        let work = RequestContext::new(identity.project_id.as_str())
            .with_user(identity.user_id.as_str())
            .scope(work(identity));
        // A client that cancels (notifications/cancelled) gets its work dropped, so the
        // guards inside record a cancellation instead of finishing work nobody waits for.
        tokio::select! {
            result = work => result.map_err(ErrorData::from),
            _ = ctx.ct.cancelled() => Err(ErrorData::internal_error("the client cancelled the request", None)),
        }
    }

    fn identify(
        &self,
        ctx: &rmcp::service::RequestContext<RoleServer>,
    ) -> Result<Identity, ErrorData> {
        let headers = match &self.session.fixed_headers {
            Some(h) => h.clone(),
            None => ctx
                .extensions
                .get::<http::request::Parts>()
                .map(|p| p.headers.clone())
                .unwrap_or_default(),
        };
        let config = &self.gateway.config;
        authenticate(
            &config.gateway_key,
            &config.projects,
            &config.users,
            &headers,
        )
        .map_err(ErrorData::from)
    }
}

#[tool_router]
impl GatewayServer {
    #[tool(description = "List the configured MCP servers; optionally discover their tools")]
    async fn enkrypt_list_all_servers(
        &self,
        Parameters(a): Parameters<ListServersArgs>,
        ctx: rmcp::service::RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let gateway = &self.gateway;
        let value = self
            .authorized(&ctx, |identity| async move {
                record::list_all_servers(&identity.user_id, &identity.project_id);
                let mut servers = match gateway.caches.gateway_config(&identity.project_id) {
                    Some(v) => v,
                    None => {
                        let v = json!(gateway
                            .config
                            .servers
                            .iter()
                            .map(|s| json!({ "name": s.name, "description": s.description }))
                            .collect::<Vec<_>>());
                        gateway
                            .caches
                            .put_gateway_config(&identity.project_id, v.clone());
                        v
                    }
                };
                if a.discover_tools {
                    let mut discovered = 0;
                    for server in servers.as_array_mut().into_iter().flatten() {
                        let name = server["name"].as_str().unwrap_or_default().to_owned();
                        match gateway.discover(&name).await {
                            Ok(tools) => {
                                discovered += 1;
                                server["tools"] = json!(tools
                                    .iter()
                                    .map(|t| t.name.to_string())
                                    .collect::<Vec<_>>());
                            }
                            Err(e) => server["error"] = json!(e.to_string()),
                        }
                    }
                    record::servers_discovered(&gateway.config_id, discovered);
                }
                Ok(servers)
            })
            .await?;
        json_result(value)
    }

    #[tool(description = "One server's configuration and tools")]
    async fn enkrypt_get_server_info(
        &self,
        Parameters(a): Parameters<ServerArgs>,
        ctx: rmcp::service::RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let gateway = &self.gateway;
        let value = self
            .authorized(&ctx, |_| async {
                let server = gateway
                    .config
                    .server(&a.server_name)
                    .ok_or_else(|| GatewayError::UnknownServer(a.server_name.clone()))?;
                let mut info = match gateway.caches.server_config(&server.name) {
                    Some(v) => v,
                    None => {
                        let v = json!({
                            "name": server.name,
                            "description": server.description,
                            "input_guardrails": server.guardrails.input.enabled,
                            "output_guardrails": server.guardrails.output.enabled,
                        });
                        gateway.caches.put_server_config(&server.name, v.clone());
                        v
                    }
                };
                let tools = gateway.discover(&server.name).await?;
                info["tools"] = json!(tools.iter().map(|t| t.name.to_string()).collect::<Vec<_>>());
                Ok(info)
            })
            .await?;
        json_result(value)
    }

    #[tool(description = "Discover the tools of one server, or of all")]
    async fn enkrypt_discover_all_tools(
        &self,
        Parameters(a): Parameters<DiscoverArgs>,
        ctx: rmcp::service::RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let gateway = &self.gateway;
        let value = self
            .authorized(&ctx, |_| async {
                let names: Vec<String> = match &a.server_name {
                    Some(name) if gateway.config.server(name).is_none() => {
                        return Err(GatewayError::UnknownServer(name.clone()))
                    }
                    Some(name) => vec![name.clone()],
                    None => gateway
                        .config
                        .servers
                        .iter()
                        .map(|s| s.name.clone())
                        .collect(),
                };
                let mut out = serde_json::Map::new();
                let mut discovered = 0;
                for name in names {
                    match gateway.discover(&name).await {
                        Ok(tools) => {
                            discovered += 1;
                            out.insert(
                                name,
                                json!(tools.iter().map(|t| t.name.to_string()).collect::<Vec<_>>()),
                            );
                        }
                        Err(e) if a.server_name.is_some() => return Err(e),
                        Err(e) => {
                            out.insert(name, json!({ "error": e.to_string() }));
                        }
                    }
                }
                record::servers_discovered(&gateway.config_id, discovered);
                Ok(Value::Object(out))
            })
            .await?;
        json_result(value)
    }

    #[tool(
        description = "Call tools of one server through the guardrails; stops at the first block or error"
    )]
    async fn enkrypt_secure_call_tools(
        &self,
        Parameters(a): Parameters<SecureCallArgs>,
        ctx: rmcp::service::RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let gateway = &self.gateway;
        let value = self
            .authorized(&ctx, |_| async {
                if a.tool_calls.is_empty() {
                    return Err(GatewayError::InvalidArguments("tool_calls is empty".into()));
                }
                let mut results = Vec::new();
                for call in &a.tool_calls {
                    gateway.check_target(&a.server_name, &call.name).await?;
                    check_size(&call.args)?;
                    let answer = gateway
                        .secure_call(&a.server_name, &call.name, call.args.clone())
                        .await?;
                    results
                        .push(json!({ "tool": call.name, "status": "success", "result": answer }));
                }
                Ok(json!(results))
            })
            .await?;
        json_result(value)
    }

    #[tool(description = "Cache statistics")]
    async fn enkrypt_get_cache_status(
        &self,
        ctx: rmcp::service::RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let gateway = &self.gateway;
        let value = self
            .authorized(&ctx, |_| async { Ok(gateway.caches.status()) })
            .await?;
        json_result(value)
    }

    #[tool(description = "Empty caches: cache_type all, tools, gateway_config or server_config")]
    async fn enkrypt_clear_cache(
        &self,
        Parameters(a): Parameters<ClearCacheArgs>,
        ctx: rmcp::service::RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let gateway = &self.gateway;
        let value = self
            .authorized(&ctx, |_| async {
                let cleared = gateway
                    .caches
                    .clear(&a.cache_type, a.id.as_deref(), a.server_name.as_deref())
                    .map_err(GatewayError::InvalidArguments)?;
                Ok(json!({ "cleared": cleared }))
            })
            .await?;
        json_result(value)
    }

    #[tool(description = "The timeout manager's counters, by operation type")]
    async fn enkrypt_get_timeout_metrics(
        &self,
        ctx: rmcp::service::RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let value = self
            .authorized(&ctx, |_| async { Ok(super::sli::timeout_metrics()) })
            .await?;
        json_result(value)
    }
}

#[rmcp::tool_handler(router = self.tool_router, name = "secure-mcp-gateway", instructions = "Secure MCP Gateway")]
impl ServerHandler for GatewayServer {}

/// Refuses every HTTP request without the gateway key before rmcp sees it, so that no session
/// (and no state at all) exists for a caller that did not authenticate; each refusal counts
/// in `enkrypt_auth_failure_total`. The tools authenticate each call again (project, user).
async fn require_key(
    axum::extract::State(gateway): axum::extract::State<Arc<Gateway>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match check_key(&gateway.config.gateway_key, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(failure) => {
            record::auth_failure(
                "api_key",
                mcp_gateway_metrics::ErrorType::error_type(&failure),
            );
            let message = GatewayError::Auth(failure).to_string();
            rpc_error(http::StatusCode::UNAUTHORIZED, -32001, &message)
        }
    }
}

/// The gateway's MCP endpoint, served: its address, and how to stop it.
pub struct HttpServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// Stops accepting connections.
    accept: CancellationToken,
    /// Ends every MCP session (and so every call still running).
    sessions: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl HttpServer {
    /// Stops at once: every session ends, calls in flight end as cancelled.
    pub fn abort(&self) {
        self.sessions.cancel();
        self.task.abort();
    }

    /// Stops gracefully: no new connections; the calls in flight may finish until `drain`
    /// has passed; then every session ends and the calls still running are dropped (each
    /// records itself as cancelled, and the in-flight gauges come back to 0). Returns how many
    /// calls were cancelled, or the server's error.
    pub async fn shutdown(self, gateway: &Gateway, drain: Duration) -> std::io::Result<usize> {
        self.accept.cancel();
        let deadline = tokio::time::Instant::now() + drain;
        while gateway.in_flight() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let cancelled = gateway.in_flight();
        self.sessions.cancel();
        // The dropped calls finish recording; the connections close with their sessions.
        let settle = tokio::time::Instant::now() + Duration::from_secs(2);
        while gateway.in_flight() > 0 && tokio::time::Instant::now() < settle {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut task = self.task;
        match tokio::time::timeout(Duration::from_secs(2), &mut task).await {
            Ok(Ok(served)) => served?,
            Ok(Err(join)) if join.is_panic() => {
                return Err(std::io::Error::other("the HTTP server panicked"))
            }
            Ok(Err(_)) => {}
            Err(_) => task.abort(),
        }
        Ok(cancelled)
    }
}

/// The largest MCP request body the gateway reads.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// A JSON-RPC error response with an HTTP status.
fn rpc_error(status: http::StatusCode, code: i32, message: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body =
        json!({ "jsonrpc": "2.0", "id": null, "error": { "code": code, "message": message } });
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Reads a POST body (at most [`MAX_REQUEST_BYTES`]: else 413) and refuses one that is not
/// JSON with 400 and a JSON-RPC parse error, as JSON-RPC over HTTP expects (rmcp alone
/// answers 415, as if the content type were wrong).
async fn bounded_json_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.method() != http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return rpc_error(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                &format!("the request is larger than {MAX_REQUEST_BYTES} bytes"),
            )
        }
    };
    let message = match serde_json::from_slice::<Value>(&bytes) {
        Ok(message) => message,
        Err(e) => {
            return rpc_error(
                http::StatusCode::BAD_REQUEST,
                -32700,
                &format!("the request body is not JSON: {e}"),
            )
        }
    };
    let mut parts = parts;
    if message["method"] == "tools/call" && !message["id"].is_null() {
        parts.extensions.insert(ToolsCallId(message["id"].clone()));
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// Responses go out in several writes (headers, then SSE events): without TCP_NODELAY,
/// Nagle's algorithm holds the later ones until the client's (delayed) ACK, up to 40 ms per
/// request on a kept-alive connection. Every accepted connection gets it.
fn without_nagle(
    listener: tokio::net::TcpListener,
) -> impl axum::serve::Listener<Io = tokio::net::TcpStream, Addr = SocketAddr> {
    axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    })
}

/// Serves MCP over streamable HTTP at `/mcp`.
pub async fn serve_http(gateway: Arc<Gateway>, address: SocketAddr) -> std::io::Result<HttpServer> {
    let sessions = CancellationToken::new();
    let handlers = Arc::clone(&gateway);
    let service = StreamableHttpService::new(
        move || Ok(GatewayServer::new(Arc::clone(&handlers), None)),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default().with_cancellation_token(sessions.clone()),
    );
    let router = axum::Router::new()
        .nest_service("/mcp", service.clone())
        .layer(axum::middleware::from_fn_with_state(
            service,
            cancel_on_disconnect,
        ))
        .layer(axum::middleware::from_fn(bounded_json_body))
        .layer(axum::middleware::from_fn_with_state(gateway, require_key));
    let listener = tokio::net::TcpListener::bind(address).await?;
    let addr = listener.local_addr()?;
    let listener = without_nagle(listener);
    let accept = CancellationToken::new();
    let stop = accept.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
    });
    Ok(HttpServer {
        addr,
        accept,
        sessions,
        task,
    })
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = super::without_nagle(listener);
        let (accepted, client) =
            tokio::join!(listener.accept(), tokio::net::TcpStream::connect(addr));
        client.unwrap();
        let (stream, _) = accepted;
        assert!(
            stream.nodelay().unwrap(),
            "TCP_NODELAY is set on the server's side"
        );
    }
}
