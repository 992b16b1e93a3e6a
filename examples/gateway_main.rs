//! The Secure MCP Gateway, built with mcp-gateway-metrics.
//!
//! ```text
//! cargo run --example gateway                         # demo upstreams, MCP on 127.0.0.1:8000/mcp
//! cargo run --example gateway -- --simulate 30s       # the same, driven by a workload, then SLIs
//! cargo run --example gateway -- --config gw.json     # your upstream MCP servers
//! cargo run --example gateway -- --stdio              # MCP over stdio
//! ```
//!
//! Metrics are served at http://127.0.0.1:9464/metrics (see README for the settings).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use examples::gateway::config::GatewayConfig;
use examples::gateway::server::{serve_http, Gateway, GatewayServer};
use examples::gateway::workload;
use mcp_gateway_metrics::{Config, OperationType};
use rmcp::ServiceExt;

const USAGE: &str = "usage: gateway [--config FILE] [--listen ADDR] [--stdio] [--simulate DURATION]

  --config FILE        upstream MCP servers and guardrail policies (JSON); default: built-in demo servers
  --listen ADDR        MCP streamable HTTP address (default 127.0.0.1:8000, path /mcp)
  --stdio              serve MCP over stdin/stdout; credentials from ENKRYPT_GATEWAY_KEY,
                       ENKRYPT_PROJECT_ID, ENKRYPT_USER_ID
  --drain DURATION     on SIGTERM or Ctrl-C, how long calls in flight may finish (default 10s)
  --simulate DURATION  drive a realistic workload through a real MCP client for DURATION (e.g. 30s),
                       print SLIs read from the metrics, and exit";

struct Args {
    config: Option<PathBuf>,
    listen: SocketAddr,
    stdio: bool,
    simulate: Option<Duration>,
    drain: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        config: None,
        listen: "127.0.0.1:8000".parse().expect("a valid default"),
        stdio: false,
        simulate: None,
        drain: Duration::from_secs(10),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--config" => args.config = Some(PathBuf::from(value("--config")?)),
            "--listen" => {
                let v = value("--listen")?;
                args.listen = v.parse().map_err(|_| {
                    format!("--listen {v:?} is not an address such as 127.0.0.1:8000")
                })?;
            }
            "--stdio" => args.stdio = true,
            "--simulate" => {
                let v = value("--simulate")?;
                args.simulate = Some(humantime::parse_duration(&v).map_err(|e| {
                    format!("--simulate {v:?} is not a duration such as 30s ({e})")
                })?);
            }
            "--drain" => {
                let v = value("--drain")?;
                args.drain = humantime::parse_duration(&v)
                    .map_err(|e| format!("--drain {v:?} is not a duration such as 10s ({e})"))?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    // The metrics runtime reports what goes wrong (an OTLP export that failed, a /metrics
    // accept that failed, ...) as `tracing` events: show warnings and errors on stderr (stdout
    // carries MCP in --stdio mode); rmcp logs every MCP error it answers, which is the
    // gateway's business, not a warning. RUST_LOG overrides: RUST_LOG=mcp_gateway_metrics=debug.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rmcp=error")),
        )
        .init();
    if let Err(e) = run().await {
        eprintln!("gateway: {e}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let (config, config_id) = match &args.config {
        Some(path) => (
            GatewayConfig::load(path)?,
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        None => (GatewayConfig::demo(), "demo".to_owned()),
    };
    let mut metrics = Config::builder()
        .service_name("secure-mcp-gateway")
        .service_version(env!("CARGO_PKG_VERSION"));
    if std::env::var_os("OTEL_METRICS_EXPORTER").is_none() {
        // Prometheus by choice; OTEL_METRICS_EXPORTER=otlp (or prometheus,otlp) pushes.
        metrics = metrics.prometheus(true);
    }
    if args.config.is_none() && std::env::var_os("MCP_METRICS_TIMEOUT_TOOL_EXECUTION").is_none() {
        // The demo's slow server sometimes passes this: timeouts happen in the workload.
        metrics = metrics.operation_timeout(OperationType::ToolExecution, Duration::from_secs(2));
    }
    let guard = metrics.install().map_err(|e| e.to_string())?;
    let gateway = Gateway::new(config, &config_id);

    if args.stdio {
        let headers = stdio_credentials()?;
        eprintln!("gateway: serving MCP over stdio");
        let service = GatewayServer::new(gateway, Some(headers))
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| e.to_string())?;
        let _ = service.waiting().await;
        drop(guard);
        return Ok(());
    }

    let stop = shutdown_signal()?;
    let server = serve_http(gateway.clone(), args.listen)
        .await
        .map_err(|e| format!("cannot serve MCP on {}: {e}", args.listen))?;
    let addr = server.addr;
    eprintln!("gateway: MCP at http://{addr}/mcp");
    if let Some(metrics_addr) = guard.prometheus_address() {
        eprintln!("gateway: metrics at http://{metrics_addr}/metrics");
    }
    if let Some(endpoint) = guard.otlp_endpoint() {
        eprintln!("gateway: pushing OTLP to {endpoint}");
    }
    match args.simulate {
        Some(duration) => {
            eprintln!(
                "gateway: simulating a workload for {}",
                humantime::format_duration(duration)
            );
            // Listening on every interface (0.0.0.0): the workload comes in over loopback.
            let target = if addr.ip().is_unspecified() {
                SocketAddr::from(([127, 0, 0, 1], addr.port()))
            } else {
                addr
            };
            let tally = workload::run(target, &gateway.config.gateway_key, duration, true).await?;
            eprintln!(
                "gateway: {} requests sent, {} answered with an MCP error",
                tally.requests, tally.errors
            );
            println!("{}", workload::summary());
        }
        None => {
            eprintln!("gateway: SIGTERM or Ctrl-C to stop");
            stop.await;
            eprintln!(
                "gateway: stopping; calls in flight have {} to finish",
                humantime::format_duration(args.drain)
            );
        }
    }
    let cancelled = server
        .shutdown(&gateway, args.drain)
        .await
        .map_err(|e| format!("the MCP server failed: {e}"))?;
    if cancelled > 0 {
        eprintln!("gateway: {cancelled} calls still running at the deadline were cancelled");
    }
    // The final export (OTLP) happens here: every call above is in it.
    drop(guard);
    Ok(())
}

/// Resolves on SIGTERM (what container runtimes send) or SIGINT (Ctrl-C). The handlers are
/// installed when this is called, not when the future is first polled, so a signal that
/// arrives while the gateway starts is not the default (fatal) one.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let install = |kind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
    let mut term = install(SignalKind::terminate())?;
    let mut interrupt = install(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// A stdio session's credentials come from the environment.
fn stdio_credentials() -> Result<http::HeaderMap, String> {
    let mut headers = http::HeaderMap::new();
    for (var, header) in [
        ("ENKRYPT_GATEWAY_KEY", "x-gateway-key"),
        ("ENKRYPT_PROJECT_ID", "x-project-id"),
        ("ENKRYPT_USER_ID", "x-user-id"),
    ] {
        let value = std::env::var(var).unwrap_or_default();
        if !value.is_empty() {
            let value = http::HeaderValue::from_str(&value)
                .map_err(|_| format!("{var} is not a valid header value"))?;
            headers.insert(http::HeaderName::from_static(header), value);
        }
    }
    if !headers.contains_key("x-gateway-key") {
        // Never the key itself: stderr ends up in logs.
        eprintln!("gateway: ENKRYPT_GATEWAY_KEY is not set; calls will fail authentication");
    }
    Ok(headers)
}
