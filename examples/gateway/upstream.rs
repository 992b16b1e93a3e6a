//! Connections to the upstream MCP servers: built-in ones in-process, stdio ones as child
//! processes, HTTP ones over streamable HTTP. A connection that dies (the server crashed) is
//! dropped and made again on the next use.

use std::collections::HashMap;
use std::sync::Arc;

use mcp_gateway_metrics::timeout_op;
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, JsonObject, Tool};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::ServiceExt;
use tokio::sync::Mutex;

use super::config::{GatewayConfig, TransportConfig};
use super::demo_servers;
use super::error::GatewayError;

type Client = RunningService<RoleClient, ()>;

/// The gateway's clients of its upstream servers.
pub struct Upstreams {
    config: Arc<GatewayConfig>,
    clients: Mutex<HashMap<String, Arc<Client>>>,
}

impl Upstreams {
    pub fn new(config: Arc<GatewayConfig>) -> Self {
        Upstreams {
            config,
            clients: Mutex::default(),
        }
    }

    /// A live client of `server`, connecting (again) if needed.
    async fn client(&self, server_name: &str) -> Result<Arc<Client>, GatewayError> {
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(server_name) {
            if !c.is_closed() {
                return Ok(Arc::clone(c));
            }
        }
        let client = Arc::new(self.connect(server_name).await?);
        clients.insert(server_name.to_owned(), Arc::clone(&client));
        Ok(client)
    }

    #[timeout_op(operation = "connectivity", timeout = "5s")]
    async fn connect(&self, server_name: &str) -> Result<Client, GatewayError> {
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

    /// `tools/list` on one server.
    #[timeout_op(operation = "discovery")]
    pub async fn list_tools(&self, server_name: &str) -> Result<Vec<Tool>, GatewayError> {
        let client = self.client(server_name).await?;
        match client.list_all_tools().await {
            Ok(tools) => Ok(tools),
            Err(e) => Err(self.failed(server_name, e).await),
        }
    }

    /// `tools/call` on one server, under the tool_execution timeout: enforced, or only
    /// observed for a server configured with `"enforce_timeout": false`.
    pub async fn call_tool(
        &self,
        server_name: &str,
        tool_name: &str,
        arguments: JsonObject,
    ) -> Result<String, GatewayError> {
        let enforce = self
            .config
            .server(server_name)
            .is_none_or(|s| s.enforce_timeout);
        if enforce {
            self.call_enforced(server_name, tool_name, arguments).await
        } else {
            self.call_observed(server_name, tool_name, arguments).await
        }
    }

    #[timeout_op(operation = "tool_execution")]
    async fn call_enforced(
        &self,
        server_name: &str,
        tool_name: &str,
        arguments: JsonObject,
    ) -> Result<String, GatewayError> {
        self.forward(server_name, tool_name, arguments).await
    }

    #[timeout_op(operation = "tool_execution", enforce = false)]
    async fn call_observed(
        &self,
        server_name: &str,
        tool_name: &str,
        arguments: JsonObject,
    ) -> Result<String, GatewayError> {
        self.forward(server_name, tool_name, arguments).await
    }

    async fn forward(
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

    /// An MCP error from the server, or a lost connection (forgotten, so that the next use
    /// connects again).
    async fn failed(&self, server_name: &str, e: ServiceError) -> GatewayError {
        match e {
            ServiceError::McpError(e) => GatewayError::UpstreamError(e.message.to_string()),
            other => {
                self.clients.lock().await.remove(server_name);
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
