//! A small MCP server on rmcp, metered by one line: the handler is wrapped in
//! `MeteredServer::new("notes", ...)` before it is served. Nothing else in it knows about
//! metrics.
//!
//! ```text
//! cargo run --example mcp-server                           # MCP on http://127.0.0.1:8001/mcp
//! cargo run --example mcp-server -- --listen 127.0.0.1:0   # any free port
//! ```
//!
//! Metrics are served at http://127.0.0.1:9464/metrics (`MCP_METRICS_PROMETHEUS_ADDRESS` and
//! the other settings in README apply). Ctrl-C or SIGTERM stops it: its sessions end (a call
//! still running counts as cancelled), then a final export.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mcp_gateway_metrics::mcp::MeteredServer;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

/// A notebook shared by every session.
#[derive(Clone)]
struct Notes {
    notes: Arc<Mutex<BTreeMap<String, String>>>,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct Write {
    title: String,
    text: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct Read {
    title: String,
}

fn text(s: impl Into<String>) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::text(s)]))
}

#[tool_router]
impl Notes {
    fn new(notes: Arc<Mutex<BTreeMap<String, String>>>) -> Self {
        Notes {
            notes,
            tool_router: Self::tool_router(),
        }
    }

    fn notes(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.notes.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[tool(description = "Write a note under a title")]
    async fn write(&self, Parameters(a): Parameters<Write>) -> Result<CallToolResult, ErrorData> {
        self.notes().insert(a.title.clone(), a.text);
        text(format!("saved {:?}", a.title))
    }

    #[tool(description = "Read the note with a title")]
    async fn read(&self, Parameters(a): Parameters<Read>) -> Result<CallToolResult, ErrorData> {
        match self.notes().get(&a.title) {
            Some(note) => text(note.clone()),
            // A tool error: the caller reads the message (recorded as error_type="tool_error").
            None => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "no note titled {:?}",
                a.title
            ))])),
        }
    }

    #[tool(description = "The titles of all notes")]
    async fn list(&self) -> Result<CallToolResult, ErrorData> {
        text(self.notes().keys().cloned().collect::<Vec<_>>().join("\n"))
    }
}

#[tool_handler(router = self.tool_router, name = "notes", instructions = "A shared notebook")]
impl ServerHandler for Notes {}

fn listen_address() -> Result<SocketAddr, String> {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:8001".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: mcp-server [--listen ADDR]"
                ))
            }
        }
    }
    listen
        .parse()
        .map_err(|_| format!("--listen {listen:?} is not an address such as 127.0.0.1:8001"))
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("mcp-server: {e}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let listen = listen_address()?;
    let metrics = mcp_gateway_metrics::init()?;
    let notes = Arc::default();
    let sessions = CancellationToken::new();
    let service = StreamableHttpService::new(
        // The one line: every session's handler, metered as the server `notes`.
        move || Ok(MeteredServer::new("notes", Notes::new(Arc::clone(&notes)))),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default().with_cancellation_token(sessions.clone()),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let stop = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("MCP at http://{}/mcp", listener.local_addr()?);
    if let Some(addr) = metrics.prometheus_address() {
        eprintln!("metrics at http://{addr}/metrics");
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            stop.await;
            sessions.cancel();
        })
        .await?;
    // Dropping the guard flushes and shuts the pipeline down.
    drop(metrics);
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C). The handlers are installed when this is called,
/// so a signal that arrives while the server starts is not the default (fatal) one.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}
