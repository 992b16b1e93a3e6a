//! The server side: any rmcp `ServerHandler`, metered.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Mutex;

use rmcp::model::*;
use rmcp::service::{
    MaybeSendFuture, NotificationContext, RequestContext, RoleServer, SubscriptionContext,
};
use rmcp::{ErrorData as McpError, ServerHandler};

use super::delegate::delegate_to_handler;
use super::tool_names::ToolNames;
use super::{mcp_error_type, result_outcome};
use crate::__private::{Classified, ToolCallGuard, ToolCallSite};
use crate::record::{self, ActiveGuard, Outcome};

/// Any rmcp [`ServerHandler`] whose incoming `tools/call` requests are recorded as tool calls
/// of one server, whose initialized session counts in `enkrypt_active_sessions` while it
/// lives, and whose requests, when the client cancels them, end as `cancelled` (the handler's
/// work is dropped).
///
/// Tool names are bounded to the handler's tools: those [`ServerHandler::get_tool`] knows
/// (handlers made with `#[tool_handler]`), else those its `tools/list` returned; any other
/// name is recorded as [`UNLISTED_TOOL`](super::UNLISTED_TOOL).
///
/// One line to adopt: wrap the handler before serving it, for example
/// `MeteredServer::new("my-server", handler).serve(transport)`, or in the factory of a
/// streamable HTTP service.
///
/// ```
/// use mcp_gateway_metrics::mcp::MeteredServer;
/// use mcp_gateway_metrics::testing::TestMeter;
/// use rmcp::model::*;
/// use rmcp::service::{RequestContext, RoleServer};
/// use rmcp::{ErrorData, ServerHandler, ServiceExt};
///
/// struct Clock;
/// impl ServerHandler for Clock {
///     fn get_info(&self) -> ServerConfig {
///         ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
///     }
///     fn get_tool(&self, name: &str) -> Option<Tool> {
///         (name == "now").then(|| Tool::new("now", "The time", JsonObject::new()))
///     }
///     async fn call_tool(&self, request: CallToolRequestParams, _: RequestContext<RoleServer>)
///         -> Result<CallToolResponse, ErrorData> {
///         match request.name.as_ref() {
///             "now" => Ok(CallToolResult::success(vec![ContentBlock::text("12:00")]).into()),
///             _ => Err(ErrorData::invalid_params("no such tool", None)),
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let meter = TestMeter::new();
/// let (client_io, server_io) = tokio::io::duplex(64 * 1024);
/// let server = tokio::spawn(MeteredServer::new("clock", Clock).serve(server_io));
/// let client = ().serve(client_io).await?;
/// let _server = server.await??;
/// assert_eq!(meter.gauge("enkrypt_active_sessions", &[]), 1);
///
/// client.call_tool(CallToolRequestParams::new("now")).await?;
/// client.call_tool(CallToolRequestParams::new("rm -rf")).await.unwrap_err();
///
/// let calls = |tool| meter.counter("enkrypt_tool_calls_total", &[("server_name", "clock"), ("tool_name", tool)]);
/// assert_eq!(calls("now"), 1);
/// assert_eq!(calls("_unlisted"), 1);
/// assert_eq!(meter.counter("enkrypt_tool_call_failure_total", &[("error_type", "invalid_params")]), 1);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MeteredServer<H> {
    handler: H,
    server_name: Box<str>,
    listed: ToolNames,
    session: Mutex<Option<ActiveGuard>>,
}

static SERVER_SITE: ToolCallSite = ToolCallSite::new();

impl<H: ServerHandler> MeteredServer<H> {
    /// Meters `handler` as the server called `server_name` in the metrics.
    pub fn new(server_name: &str, handler: H) -> Self {
        MeteredServer {
            handler,
            server_name: server_name.into(),
            listed: ToolNames::default(),
            session: Mutex::new(None),
        }
    }

    /// The wrapped handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The tool name to record for a call of `name`.
    fn tool_label<'a>(&self, name: &'a str) -> &'a str {
        if self.handler.get_tool(name).is_some() {
            name
        } else {
            self.listed.label(name)
        }
    }

    async fn metered_call(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if !self.listed.known() && self.handler.get_tool(&request.name).is_none() {
            // A handler without `get_tool`: learn its tools once, from its own listing.
            if let Ok(list) = self.handler.list_tools(None, context.clone()).await {
                self.listed
                    .extend(list.tools.iter().map(|t| t.name.as_ref()));
            }
        }
        let tool = self.tool_label(&request.name);
        let guard = ToolCallGuard::start(&SERVER_SITE, &self.server_name, tool, None);
        let cancelled = context.ct.clone();
        // rmcp only signals a cancellation: dropping the work is what stops it (and what
        // records the call as cancelled, in the guard's drop).
        let result = tokio::select! {
            result = self.handler.call_tool(request, context) => result,
            _ = cancelled.cancelled() => {
                drop(guard);
                return Err(McpError::internal_error("the client cancelled the request", None));
            }
        };
        let outcome = match &result {
            Ok(CallToolResponse::Complete(result)) => result_outcome(result),
            Ok(_) => Outcome::Success,
            Err(error) => Outcome::Failure {
                error_type: mcp_error_type(error),
            },
        };
        guard.finish(Classified::of(outcome));
        result
    }
}

// The handler's deprecated methods (SEP-2577: sampling, roots, logging) are passed on too.
#[allow(deprecated)]
impl<H: ServerHandler> ServerHandler for MeteredServer<H> {
    fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, McpError>> + MaybeSendFuture + '_ {
        self.metered_call(request, context)
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        let result = self.handler.initialize(request, context).await;
        if result.is_ok() {
            let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
            if session.is_none() {
                *session = Some(record::session_started());
            }
        }
        result
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let result = self.handler.list_tools(request, context).await;
        if let Ok(list) = &result {
            self.listed
                .extend(list.tools.iter().map(|t| t.name.as_ref()));
        }
        result
    }

    delegate_to_handler!();
}
