//! Connections to the upstream MCP servers: built-in ones in-process, stdio ones as child
//! processes, HTTP ones over streamable HTTP. Each is an rmcp client metered by
//! `mcp::MeteredClient`, which enforces (or only observes) the `tool_execution` timeout and
//! maps rmcp's errors; the tool call itself is counted by `Gateway::secure_call`, the
//! `#[tool_call]` around the guardrails and this call. A connection that dies (the server
//! crashed) is dropped and made again on the next use. Each server has its own connection
//! slot, so connecting to one never waits for another.

use std::collections::HashMap;
use std::sync::Arc;

use mcp_gateway_metrics::mcp::{MeteredClient, ToolTimeout};
use mcp_gateway_metrics::{timeout_op, OperationType, Timeout};
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, JsonObject, Tool};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::ServiceExt;
use tokio::sync::Mutex;

use super::config::{GatewayConfig, TransportConfig};
use super::demo_servers;
use super::error::GatewayError;

/// A live connection: the running rmcp client (kept alive here) and its metered peer.
struct Connection {
    service: RunningService<RoleClient, ()>,
    client: MeteredClient,
}

impl Connection {
    /// A connection whose serve loop ended by itself (its server died between two calls)
    /// still says it is not closed; its transport does.
    fn alive(&self) -> bool {
        !self.service.is_closed() && !self.service.is_transport_closed()
    }
}

/// The gateway's clients of its upstream servers.
pub struct Upstreams {
    config: Arc<GatewayConfig>,
    /// One slot per configured server.
    slots: HashMap<String, Mutex<Option<Connection>>>,
}

impl Upstreams {
    pub fn new(config: Arc<GatewayConfig>) -> Self {
        let slots = config
            .servers
            .iter()
            .map(|s| (s.name.clone(), Mutex::new(None)))
            .collect();
        Upstreams { config, slots }
    }

    /// Whether the gateway holds a live connection to `server_name` (one whose server has not
    /// gone away).
    pub async fn connected(&self, server_name: &str) -> bool {
        match self.slots.get(server_name) {
            Some(slot) => slot.lock().await.as_ref().is_some_and(Connection::alive),
            None => false,
        }
    }

    /// A live client of `server`, connecting (again) if needed.
    async fn client(&self, server_name: &str) -> Result<MeteredClient, GatewayError> {
        let slot = self
            .slots
            .get(server_name)
            .ok_or_else(|| GatewayError::UnknownServer(server_name.to_owned()))?;
        let mut slot = slot.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| c.alive()) {
            return Ok(c.client.clone());
        }
        let service = self.connect(server_name).await?;
        // Enforced unless the server is configured with `"enforce_timeout": false`; the
        // duration is the operator's tool_execution timeout.
        let enforce = self
            .config
            .server(server_name)
            .is_none_or(|s| s.enforce_timeout);
        let timeout = if enforce {
            ToolTimeout::Enforced(None)
        } else {
            ToolTimeout::Observed(None)
        };
        let client = MeteredClient::new(server_name, service.peer().clone()).tool_timeout(timeout);
        *slot = Some(Connection {
            service,
            client: client.clone(),
        });
        Ok(client)
    }

    /// Connects under the operator's `connectivity` timeout (`MCP_METRICS_TIMEOUT_CONNECTIVITY`).
    #[timeout_op(operation = "connectivity")]
    async fn connect(
        &self,
        server_name: &str,
    ) -> Result<RunningService<RoleClient, ()>, GatewayError> {
        let server = self
            .config
            .server(server_name)
            .ok_or_else(|| GatewayError::UnknownServer(server_name.to_owned()))?;
        let unavailable =
            |e: String| GatewayError::UpstreamUnavailable(format!("{server_name}: {e}"));
        match server.transport().map_err(GatewayError::InvalidArguments)? {
            TransportConfig::Builtin { builtin } => {
                let io = demo_servers::spawn(&builtin)
                    .ok_or_else(|| unavailable("no such builtin".into()))?;
                ().serve(io).await.map_err(|e| unavailable(e.to_string()))
            }
            TransportConfig::Stdio { command, args, env } => {
                let mut cmd = tokio::process::Command::new(&command);
                cmd.args(&args).envs(&env);
                let transport =
                    TokioChildProcess::new(cmd).map_err(|e| unavailable(e.to_string()))?;
                ().serve(transport)
                    .await
                    .map_err(|e| unavailable(e.to_string()))
            }
            TransportConfig::Http { url } => {
                let transport = StreamableHttpClientTransport::from_uri(url.as_str());
                ().serve(transport)
                    .await
                    .map_err(|e| unavailable(e.to_string()))
            }
        }
    }

    /// `tools/list` on one server. Straight through the peer: the gateway counts discovered
    /// servers itself, per discovery request and from its own tools cache too.
    #[timeout_op(operation = "discovery")]
    pub async fn list_tools(&self, server_name: &str) -> Result<Vec<Tool>, GatewayError> {
        let client = self.client(server_name).await?;
        match client.peer().list_all_tools().await {
            Ok(tools) => Ok(tools),
            Err(e) => Err(self.failed(server_name, e).await),
        }
    }

    /// `tools/call` on one server, under its tool_execution timeout.
    pub async fn call_tool(
        &self,
        server_name: &str,
        tool_name: &str,
        arguments: JsonObject,
    ) -> Result<String, GatewayError> {
        let client = self.client(server_name).await?;
        let params = CallToolRequestParams::new(tool_name.to_owned()).with_arguments(arguments);
        let result = match client.call_tool(params).await {
            Ok(result) => result,
            Err(e) => return Err(self.failed(server_name, e).await),
        };
        let text = text_of(&result);
        if result.is_error == Some(true) {
            return Err(GatewayError::UpstreamError(text));
        }
        Ok(text)
    }

    /// An MCP error from the server, a deadline, or a lost connection (forgotten, so that the
    /// next use connects again).
    async fn failed(&self, server_name: &str, e: ServiceError) -> GatewayError {
        match e {
            ServiceError::McpError(e) => GatewayError::UpstreamError(e.message.to_string()),
            ServiceError::Timeout { timeout } => {
                GatewayError::Timeout(Timeout::new(OperationType::ToolExecution, timeout))
            }
            other => {
                if let Some(slot) = self.slots.get(server_name) {
                    *slot.lock().await = None;
                }
                GatewayError::UpstreamUnavailable(format!("{server_name}: {other}"))
            }
        }
    }
}

/// The text content of a tool result, joined.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| match c {
            ContentBlock::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}
