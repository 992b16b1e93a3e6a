//! The example programs as processes, the way users run them.

use std::io::BufRead;
use std::process::Command;

/// The path of an example binary: the one `cargo test --workspace` built next to the running
/// test, else built now with `cargo build --example NAME`.
pub fn example_path(name: &str) -> String {
    let test_exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let built = profile_dir.join("examples").join(name);
    if !built.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "examples", "--example", name])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build --example {name} failed");
    }
    built.to_string_lossy().into_owned()
}

/// The example program `name`, to run as users run it.
pub fn example(name: &str) -> Command {
    Command::new(example_path(name))
}

/// A child's stderr, read line by line on a thread of its own, so that every wait on it is
/// bounded in time. Each line is echoed to the test's stderr too (shown when a test fails).
pub struct ChildLines {
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl ChildLines {
    /// Takes `child`'s stderr (spawn it with `Stdio::piped()`).
    pub fn of(child: &mut std::process::Child) -> ChildLines {
        let stderr = child.stderr.take().expect("stderr piped");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                eprintln!("  child| {line}");
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        ChildLines {
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most 30 s) for a line containing `marker`; returns what follows the marker.
    pub fn after(&mut self, marker: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let rest = line.split_once(marker).map(|(_, rest)| rest.to_owned());
                    self.seen.push(line);
                    if let Some(rest) = rest {
                        return rest;
                    }
                }
                Err(_) => panic!(
                    "the child never printed {marker:?}; it printed {:?}",
                    self.seen
                ),
            }
        }
    }

    /// Every line up to the end of the output (at most `limit` from now).
    pub fn rest(mut self, limit: std::time::Duration) -> Vec<String> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return self.seen,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the output did not end within {limit:?}: {:?}", self.seen)
                }
            }
        }
    }
}

/// Sends SIGTERM to `child` and waits (at most `limit`) for it to exit.
pub fn terminate(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> std::process::ExitStatus {
    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            panic!("no exit {limit:?} after SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The gateway example as a process on loopback: MCP on a free port, `/metrics` on another.
pub struct GatewayProcess {
    pub child: std::process::Child,
    /// The MCP endpoint's address (`/mcp`).
    pub mcp: std::net::SocketAddr,
    /// The port of its `/metrics`.
    pub metrics_port: u16,
    _lines: ChildLines,
}

impl GatewayProcess {
    /// Starts `gateway --listen 127.0.0.1:0 --drain 1s` with `envs` added to its environment.
    pub fn start(envs: &[(&str, &str)]) -> GatewayProcess {
        let metrics_port = crate::prometheus::free_port();
        let mut child = example("gateway")
            .args(["--listen", "127.0.0.1:0", "--drain", "1s"])
            .env(
                "MCP_METRICS_PROMETHEUS_ADDRESS",
                format!("127.0.0.1:{metrics_port}"),
            )
            .envs(envs.iter().copied())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the gateway starts");
        let mut lines = ChildLines::of(&mut child);
        let mcp = lines.after("MCP at http://");
        GatewayProcess {
            child,
            mcp: mcp.trim_end_matches("/mcp").parse().expect("an address"),
            metrics_port,
            _lines: lines,
        }
    }

    /// Stops it with SIGTERM; it must exit 0.
    pub fn stop(mut self) {
        let status = terminate(&mut self.child, std::time::Duration::from_secs(30));
        assert!(status.success(), "{status:?}");
    }
}
