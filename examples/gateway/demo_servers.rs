//! The built-in upstream MCP servers, real rmcp servers run in-process over an in-memory
//! byte stream, so the gateway works on a fresh machine with nothing else installed:
//!
//! - `github`: `create_issue`, `search_code`, `get_file` (a file that carries an email address
//!   and, for `NOTES.md`, an unverifiable claim);
//! - `slow`: `analyze`, which takes as long as asked (and so can pass its timeout);
//! - `flaky`: `fetch`, which fails every third call, takes 2.6 s for a URL with `/slow`, and
//!   crashes (closes its transport mid-call) when asked for a `crash://` URL. A fault can be
//!   injected: `GATEWAY_DEMO_FLAKY_FAIL_EVERY=1` makes every call fail (`N`: every Nth).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{tool, tool_router, ErrorData, ServerHandler};
use serde::Deserialize;
use tokio::io::DuplexStream;
use tokio_util::sync::CancellationToken;

/// The names of the built-in servers.
pub const NAMES: &[&str] = &["github", "slow", "flaky"];

fn text(s: impl Into<String>) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::text(s)]))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CreateIssue {
    pub title: String,
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchCode {
    pub query: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetFile {
    pub path: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Analyze {
    pub text: String,
    /// How long the analysis takes, in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Fetch {
    pub url: String,
}

/// GitHub-like tools.
#[derive(Debug, Clone)]
pub struct Github {
    issues: Arc<AtomicU64>,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Github {
    #[tool(description = "Create an issue with a title and a body")]
    async fn create_issue(
        &self,
        Parameters(a): Parameters<CreateIssue>,
    ) -> Result<CallToolResult, ErrorData> {
        let n = self.issues.fetch_add(1, Ordering::Relaxed) + 1;
        text(format!(
            "created issue #{n}: {} ({} bytes of body)",
            a.title,
            a.body.len()
        ))
    }

    #[tool(description = "Search code for a query")]
    async fn search_code(
        &self,
        Parameters(a): Parameters<SearchCode>,
    ) -> Result<CallToolResult, ErrorData> {
        text(format!(
            "search results for {}: 3 matches for {} in src/lib.rs, src/main.rs, README.md",
            a.query, a.query
        ))
    }

    #[tool(description = "Read a file of the repository")]
    async fn get_file(
        &self,
        Parameters(a): Parameters<GetFile>,
    ) -> Result<CallToolResult, ErrorData> {
        match a.path.as_str() {
            "NOTES.md" => text(format!(
                "file {}: the project was certainly founded in 1802 [unverified claim]",
                a.path
            )),
            path => text(format!(
                "file {path}: maintainer contact alice@example.com, license MIT"
            )),
        }
    }
}

/// A server whose analysis takes as long as it is asked to.
#[derive(Debug, Clone)]
pub struct Slow {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Slow {
    #[tool(description = "Analyze a text (takes delay_ms milliseconds)")]
    async fn analyze(
        &self,
        Parameters(a): Parameters<Analyze>,
    ) -> Result<CallToolResult, ErrorData> {
        tokio::time::sleep(Duration::from_millis(a.delay_ms)).await;
        let words = a.text.split_whitespace().count();
        if a.text.len() > 80 {
            // Only the beginning is analyzed: the answer says so.
            let head: String = a.text.chars().take(40).collect();
            return text(format!("analysis of {head}: {words} words (truncated)"));
        }
        text(format!("analysis of {}: {words} words", a.text))
    }
}

/// A server that fails every third call and can be made to crash.
#[derive(Debug, Clone)]
pub struct Flaky {
    calls: Arc<AtomicU64>,
    /// Every how many calls one fails.
    fail_every: u64,
    crash: CancellationToken,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Flaky {
    #[tool(description = "Fetch a URL (fails every third call; crash:// crashes the server)")]
    async fn fetch(&self, Parameters(a): Parameters<Fetch>) -> Result<CallToolResult, ErrorData> {
        if a.url.starts_with("crash://") {
            // The server goes away mid-call: its transport closes without an answer.
            self.crash.cancel();
            std::future::pending::<()>().await;
        }
        if a.url.contains("/slow") {
            tokio::time::sleep(Duration::from_millis(2600)).await;
        }
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(self.fail_every) {
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "upstream returned 502 for {}",
                a.url
            ))]));
        }
        text(format!("fetched {}: 200 OK, 1.2 kB", a.url))
    }
}

#[rmcp::tool_handler(router = self.tool_router, name = "github", instructions = "GitHub-like tools")]
impl ServerHandler for Github {}

#[rmcp::tool_handler(router = self.tool_router, name = "slow", instructions = "Slow analysis")]
impl ServerHandler for Slow {}

#[rmcp::tool_handler(router = self.tool_router, name = "flaky", instructions = "Flaky fetches")]
impl ServerHandler for Flaky {}

/// A fresh instance of the built-in server `name`, as a handler of its own.
fn handler(name: &str, crash: CancellationToken) -> Option<Handler> {
    Some(match name {
        "github" => Handler::Github(Github {
            issues: Arc::default(),
            tool_router: Github::tool_router(),
        }),
        "slow" => Handler::Slow(Slow {
            tool_router: Slow::tool_router(),
        }),
        "flaky" => Handler::Flaky(Flaky {
            calls: Arc::default(),
            fail_every: std::env::var("GATEWAY_DEMO_FLAKY_FAIL_EVERY")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(3),
            crash,
            tool_router: Flaky::tool_router(),
        }),
        _ => return None,
    })
}

enum Handler {
    Github(Github),
    Slow(Slow),
    Flaky(Flaky),
}

/// Serves the built-in server `name` over streamable HTTP at `/mcp` on `address` (a real
/// remote upstream for trying the gateway's `url` servers); returns the bound address.
pub async fn serve_http(
    name: &str,
    address: std::net::SocketAddr,
) -> std::io::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService,
    };
    fn service<S: ServerHandler + Clone>(s: S) -> axum::Router {
        let http = StreamableHttpService::new(
            move || Ok(s.clone()),
            LocalSessionManager::default().into(),
            StreamableHttpServerConfig::default(),
        );
        axum::Router::new().nest_service("/mcp", http)
    }
    let router = match handler(name, CancellationToken::new()) {
        Some(Handler::Github(s)) => service(s),
        Some(Handler::Slow(s)) => service(s),
        Some(Handler::Flaky(s)) => service(s),
        None => {
            return Err(std::io::Error::other(format!(
                "no built-in server {name:?}"
            )))
        }
    };
    let listener = tokio::net::TcpListener::bind(address).await?;
    let bound = listener.local_addr()?;
    Ok((
        bound,
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }),
    ))
}

/// Starts the built-in server `name` on the current tokio runtime and returns the client end
/// of its byte stream. `None` for an unknown name.
pub fn spawn(name: &str) -> Option<DuplexStream> {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let crash = CancellationToken::new();
    match handler(name, crash.clone())? {
        Handler::Github(s) => tokio::spawn(serve(s, server, crash)),
        Handler::Slow(s) => tokio::spawn(serve(s, server, crash)),
        Handler::Flaky(s) => tokio::spawn(serve(s, server, crash)),
    };
    Some(client)
}

async fn serve<S: ServerHandler>(handler: S, io: DuplexStream, stop: CancellationToken) {
    if let Ok(running) = rmcp::service::serve_server_with_ct(handler, io, stop).await {
        let _ = running.waiting().await;
    }
}
