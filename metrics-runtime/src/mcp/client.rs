//! The client side: one upstream server's peer, metered.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::{Peer, RoleClient, ServiceError};

use super::tool_names::ToolNames;
use super::{result_outcome, service_error_outcome};
use crate::__private::{enforce, inside_call, Classified, ToolCallGuard, ToolCallSite};
use crate::labels::{CacheType, OperationType};
use crate::record::{self, TimeoutOperation, TimeoutOutcome};

/// How [`MeteredClient::call_tool`] treats the `tool_execution` timeout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolTimeout {
    /// No deadline and no timeout-manager metrics (the default).
    #[default]
    Off,
    /// The deadline cuts the call off (the request is cancelled at the server, the call ends
    /// as a `timeout` failure). `None`: the pipeline's configured `tool_execution` timeout.
    Enforced(Option<Duration>),
    /// The call runs to its end; the timeout manager records how close it came (an overrun
    /// counts as timed out, with its escalation level).
    Observed(Option<Duration>),
}

/// A tools cache entry: when it was filled, and the tools.
type CachedTools = Option<(Instant, Vec<Tool>)>;

/// What clones of one client share: the tools it listed and its tools cache.
#[derive(Debug, Default)]
struct Shared {
    cached: Mutex<CachedTools>,
    listed: ToolNames,
}

/// An rmcp client peer of one upstream server whose calls record the catalog's metrics.
///
/// [`call_tool`](Self::call_tool) records what `#[tool_call]` records: `enkrypt_tool_calls_total`,
/// its outcome (success, failure by `error_type`, crash), and
/// `enkrypt_tool_call_duration_seconds`, labelled with this client's server name, the tool
/// name (only tools the server listed; see the [module docs](super)) and the current
/// request context's project. [`list_tools`](Self::list_tools) records discovery.
///
/// Cheap to clone: clones share the listed tool names and the tools cache.
///
/// ```
/// use mcp_gateway_metrics::mcp::MeteredClient;
/// use mcp_gateway_metrics::testing::TestMeter;
/// use rmcp::model::*;
/// use rmcp::service::{RequestContext, RoleServer};
/// use rmcp::{ErrorData, ServerHandler, ServiceExt};
///
/// struct Echo;
/// impl ServerHandler for Echo {
///     fn get_info(&self) -> ServerConfig {
///         ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
///     }
///     async fn list_tools(&self, _: Option<PaginatedRequestParams>, _: RequestContext<RoleServer>)
///         -> Result<ListToolsResult, ErrorData> {
///         Ok(ListToolsResult::with_all_items(vec![Tool::new("echo", "Echoes", JsonObject::new())]))
///     }
///     async fn call_tool(&self, request: CallToolRequestParams, _: RequestContext<RoleServer>)
///         -> Result<CallToolResponse, ErrorData> {
///         Ok(CallToolResult::success(vec![ContentBlock::text(request.name.to_string())]).into())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let meter = TestMeter::new();
/// let (client_io, server_io) = tokio::io::duplex(64 * 1024);
/// let server = tokio::spawn(Echo.serve(server_io));
/// let client = ().serve(client_io).await?;
/// let _server = server.await??;
///
/// // One line to adopt: the upstream's name, given once.
/// let github = MeteredClient::new("github", client.peer().clone());
/// github.call_tool(CallToolRequestParams::new("echo")).await?;
/// github.call_tool(CallToolRequestParams::new("<script>")).await?; // not listed
///
/// let calls = |tool| meter.counter("enkrypt_tool_calls_total", &[("server_name", "github"), ("tool_name", tool)]);
/// assert_eq!(calls("echo"), 1);
/// assert_eq!(calls("_unlisted"), 1); // never the raw string
/// assert_eq!(meter.counter("enkrypt_servers_discovered", &[]), 1); // listed on first use
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MeteredClient {
    peer: Peer<RoleClient>,
    server_name: Arc<str>,
    config_id: Arc<str>,
    timeout: ToolTimeout,
    tools_ttl: Option<Duration>,
    shared: Arc<Shared>,
}

static CLIENT_SITE: ToolCallSite = ToolCallSite::new();

impl MeteredClient {
    /// Meters `peer`, a client of the server called `server_name` in the metrics.
    pub fn new(server_name: &str, peer: Peer<RoleClient>) -> Self {
        MeteredClient {
            peer,
            server_name: server_name.into(),
            config_id: "default".into(),
            timeout: ToolTimeout::Off,
            tools_ttl: None,
            shared: Arc::default(),
        }
    }

    /// The deadline of each tool call (default [`ToolTimeout::Off`]).
    pub fn tool_timeout(mut self, timeout: ToolTimeout) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `mcp_config_id` that [`list_tools`](Self::list_tools) counts discovered servers
    /// under (default `default`).
    pub fn config_id(mut self, config_id: &str) -> Self {
        self.config_id = config_id.into();
        self
    }

    /// Keeps the listed tools for `ttl`: [`list_tools`](Self::list_tools) answers from the
    /// cache while it is fresh, counting `enkrypt_cache_hits_total{cache_type="tools"}` and
    /// `_misses_total`.
    pub fn cache_tools(mut self, ttl: Duration) -> Self {
        self.tools_ttl = Some(ttl);
        self
    }

    /// The wrapped peer, for everything else.
    pub fn peer(&self) -> &Peer<RoleClient> {
        &self.peer
    }

    /// The server name in the metrics.
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// Empties the tools cache.
    pub fn clear_tools_cache(&self) {
        *self.cached() = None;
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, CachedTools> {
        self.shared.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `tools/list`, all pages, as a `discovery` operation of the timeout manager (the
    /// pipeline's discovery timeout, enforced), or from the tools cache while it is fresh
    /// (see [`cache_tools`](Self::cache_tools)). Each discovery that finds tools, from the
    /// server or the cache, counts one server in `enkrypt_servers_discovered{mcp_config_id}`;
    /// the names listed become the tool names this client records.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, ServiceError> {
        if let Some(ttl) = self.tools_ttl {
            let fresh = self
                .cached()
                .as_ref()
                .filter(|(at, _)| at.elapsed() < ttl)
                .map(|(_, tools)| tools.clone());
            record::cache_lookup(CacheType::Tools, fresh.is_some());
            if let Some(tools) = fresh {
                self.discovered(&tools);
                return Ok(tools);
            }
        }
        let op = TimeoutOperation::start(OperationType::Discovery, None);
        let (result, outcome) = match enforce(&op, self.peer.list_all_tools()).await {
            Some(result) => (result, TimeoutOutcome::Completed),
            None => (
                Err(ServiceError::Timeout {
                    timeout: op.timeout(),
                }),
                TimeoutOutcome::TimedOut,
            ),
        };
        op.finish(outcome);
        let tools = result?;
        self.shared
            .listed
            .learn(tools.iter().map(|t| t.name.as_ref()));
        self.discovered(&tools);
        if self.tools_ttl.is_some() {
            *self.cached() = Some((Instant::now(), tools.clone()));
        }
        Ok(tools)
    }

    /// A discovery that found tools counts this server once.
    fn discovered(&self, tools: &[Tool]) {
        if !tools.is_empty() {
            record::servers_discovered(&self.config_id, 1);
        }
    }

    /// `tools/call`, recorded as a tool call of this server (see the
    /// [module docs](super) for outcomes and labels). The first call lists the server's tools
    /// if nothing listed them yet, so that its tool names are known.
    ///
    /// Inside a `#[tool_call]` function the call is not counted again (the enclosing call
    /// counts it); its deadline still applies.
    pub async fn call_tool(
        &self,
        params: CallToolRequestParams,
    ) -> Result<CallToolResult, ServiceError> {
        let guard = if inside_call() {
            None
        } else {
            if !self.shared.listed.known() {
                // Failing here is the call's business: it fails below the same way.
                let _ = self.list_tools().await;
            }
            let tool = self.shared.listed.label(&params.name);
            Some(ToolCallGuard::start(
                &CLIENT_SITE,
                &self.server_name,
                tool,
                None,
            ))
        };
        let (result, timed_out) = self.call_within_timeout(params).await;
        if let Some(mut guard) = guard {
            if timed_out {
                guard.timed_out();
            }
            let outcome = match &result {
                Ok(result) => result_outcome(result),
                Err(error) => service_error_outcome(error),
            };
            guard.finish(Classified::of(outcome));
        }
        result
    }

    /// The call under this client's [`ToolTimeout`]; `true` when the deadline cut it off.
    async fn call_within_timeout(
        &self,
        params: CallToolRequestParams,
    ) -> (Result<CallToolResult, ServiceError>, bool) {
        let call = self.peer.call_tool(params);
        let (timeout, enforced) = match self.timeout {
            ToolTimeout::Off => return (call.await, false),
            ToolTimeout::Enforced(t) => (t, true),
            ToolTimeout::Observed(t) => (t, false),
        };
        let op = TimeoutOperation::start(OperationType::ToolExecution, timeout);
        if !enforced {
            let result = call.await;
            op.finish(TimeoutOutcome::Completed);
            return (result, false);
        }
        match enforce(&op, call).await {
            Some(result) => {
                op.finish(TimeoutOutcome::Completed);
                (result, false)
            }
            None => {
                let timeout = op.timeout();
                op.finish(TimeoutOutcome::TimedOut);
                (Err(ServiceError::Timeout { timeout }), true)
            }
        }
    }
}
