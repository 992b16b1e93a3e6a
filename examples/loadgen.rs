//! A load generator for the example gateway: real MCP clients (rmcp over streamable HTTP),
//! each on its own kept-alive connection, calling one fast guarded tool in a loop. Bounded in
//! count and time; it talks to loopback only.
//!
//! ```text
//! cargo build --release -p examples --example gateway --example loadgen
//! cargo build --release -p examples --example gateway --no-default-features --target-dir target/off
//! target/release/examples/loadgen --gateway target/release/examples/gateway \
//!     --compare target/off/release/examples/gateway --sessions 32 --duration 10s
//! ```
//!
//! `--gateway BIN` starts that gateway binary on a free loopback port (stopped with SIGTERM
//! afterwards); `--compare BIN` also runs the same load against a second binary (e.g. built
//! without instrumentation), in the order A B B A (`--duration` each), and prints both totals
//! and the throughput ratio. `--url` targets a gateway already
//! running on loopback instead.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use examples::gateway::workload::{call, connect};
use serde_json::json;

const USAGE: &str =
    "usage: loadgen (--gateway BIN [--compare BIN] | --url http://127.0.0.1:PORT/mcp)
               [--sessions N] [--duration D] [--max-calls N] [--key KEY]";

struct Args {
    gateway: Option<String>,
    compare: Option<String>,
    url: Option<String>,
    sessions: usize,
    duration: Duration,
    max_calls: u64,
    key: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        gateway: None,
        compare: None,
        url: None,
        sessions: 32,
        duration: Duration::from_secs(10),
        max_calls: 1_000_000,
        key: "demo-key".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--gateway" => args.gateway = Some(value()?),
            "--compare" => args.compare = Some(value()?),
            "--url" => args.url = Some(value()?),
            "--sessions" => {
                args.sessions = value()?
                    .parse()
                    .map_err(|_| format!("--sessions needs a number\n{USAGE}"))?
            }
            "--max-calls" => {
                args.max_calls = value()?
                    .parse()
                    .map_err(|_| format!("--max-calls needs a number\n{USAGE}"))?
            }
            "--duration" => {
                let v = value()?;
                args.duration = humantime::parse_duration(&v)
                    .map_err(|e| format!("--duration {v:?}: {e}\n{USAGE}"))?;
            }
            "--key" => args.key = value()?,
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}")),
        }
    }
    if args.gateway.is_none() == args.url.is_none() {
        return Err(format!("give --gateway or --url\n{USAGE}"));
    }
    if !(1..=1024).contains(&args.sessions) || args.duration > Duration::from_secs(600) {
        return Err("at most 1024 sessions and 10 minutes".into());
    }
    Ok(args)
}

/// What one run measured.
struct Report {
    calls: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Report {
    fn empty() -> Report {
        Report {
            calls: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
        }
    }

    /// Adds another run's measurements to this one.
    fn absorb(&mut self, other: Report) {
        self.calls += other.calls;
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
        self.latencies.sort();
    }

    fn rate(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    fn quantile(&self, q: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }

    fn print(&self, name: &str) {
        println!(
            "{name}: {} calls ({} errors) in {:.1} s = {:.0} calls/s; p50 {:.2} ms, p99 {:.2} ms",
            self.calls,
            self.errors,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.quantile(0.5).as_secs_f64() * 1e3,
            self.quantile(0.99).as_secs_f64() * 1e3,
        );
    }
}

/// `sessions` clients calling a fast guarded tool until `duration` or `max_calls`.
async fn load(addr: SocketAddr, args: &Args) -> Result<Report, String> {
    let mut clients = Vec::new();
    for i in 0..args.sessions {
        clients.push(connect(addr, &args.key, "demo-project", &format!("user-{}", i % 8)).await?);
    }
    let request = json!({
        "server_name": "github",
        "tool_calls": [{ "name": "search_code", "args": { "query": "timeout handling" } }]
    });
    // A warm-up call per session (connections, caches).
    for client in &clients {
        call(client, "enkrypt_secure_call_tools", request.clone()).await?;
    }
    let started = Instant::now();
    let budget = Arc::new(std::sync::atomic::AtomicU64::new(args.max_calls));
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let (request, budget, duration) = (request.clone(), Arc::clone(&budget), args.duration);
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while started.elapsed() < duration
                    && budget
                        .fetch_update(
                            std::sync::atomic::Ordering::Relaxed,
                            std::sync::atomic::Ordering::Relaxed,
                            |n| n.checked_sub(1),
                        )
                        .is_ok()
                {
                    let t = Instant::now();
                    if call(&client, "enkrypt_secure_call_tools", request.clone())
                        .await
                        .is_err()
                    {
                        errors += 1;
                    }
                    latencies.push(t.elapsed());
                }
                let _ = client.cancel().await;
                (latencies, errors)
            })
        })
        .collect();
    let mut report = Report::empty();
    for task in tasks {
        let (latencies, errors) = task.await.map_err(|e| e.to_string())?;
        report.calls += latencies.len() as u64;
        report.errors += errors;
        report.latencies.extend(latencies);
    }
    report.elapsed = started.elapsed();
    report.latencies.sort();
    Ok(report)
}

/// Starts a gateway binary on a free loopback port; its MCP address.
fn start(bin: &str) -> Result<(Child, SocketAddr), String> {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0"])
        .env("MCP_METRICS_PROMETHEUS_ADDRESS", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {bin}: {e}"))?;
    let stderr = child.stderr.take().expect("piped");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .ok_or(format!("{bin} exited before serving"))?
            .map_err(|e| e.to_string())?;
        if let Some(rest) = line.split_once("MCP at http://").map(|(_, r)| r) {
            break rest
                .trim_end_matches("/mcp")
                .parse()
                .map_err(|_| format!("unexpected line {line:?}"))?;
        }
    };
    // Keep draining its stderr so that it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok((child, addr))
}

fn stop(mut child: Child) {
    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

async fn against(bin: &str, args: &Args) -> Result<Report, String> {
    let (child, addr) = start(bin)?;
    let report = load(addr, args).await;
    stop(child);
    report
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("loadgen: {e}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    if let Some(url) = &args.url {
        let addr: SocketAddr = url
            .trim_start_matches("http://")
            .trim_end_matches("/mcp")
            .parse()
            .map_err(|_| format!("--url {url:?} is not http://IP:PORT/mcp"))?;
        if !addr.ip().is_loopback() {
            return Err("loadgen talks to loopback only".into());
        }
        load(addr, &args).await?.print(url);
        return Ok(());
    }
    let gateway = args.gateway.as_deref().expect("checked");
    let Some(other) = args.compare.as_deref() else {
        against(gateway, &args).await?.print(gateway);
        return Ok(());
    };
    // A, B, B, A: each binary runs first once and last once, so that a drift of the machine
    // over the run (caches, clocks, the other core) weighs on both alike.
    let (mut first, mut second) = (Report::empty(), Report::empty());
    for bin in [gateway, other, other, gateway] {
        let report = against(bin, &args).await?;
        report.print(&format!("  {bin}"));
        if bin == gateway {
            first.absorb(report);
        } else {
            second.absorb(report);
        }
    }
    first.print(gateway);
    second.print(other);
    println!(
        "throughput ratio {other} / {gateway}: {:.3}",
        second.rate() / first.rate()
    );
    Ok(())
}
