//! A real Prometheus server for the end-to-end tests: binaries from `PROMETHEUS_BIN` /
//! `PROMTOOL_BIN`, else from `infra/scripts/fetch-prometheus.sh`; a process on a loopback
//! port, queried through its HTTP API.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// How to provide the binaries, for the failure messages.
const HOW_TO_PROVIDE: &str = "set PROMETHEUS_BIN and PROMTOOL_BIN to a Prometheus 2.x or 3.x \
     installation's `prometheus` and `promtool` (and ALERTMANAGER_BIN to an Alertmanager \
     0.2x), or let infra/scripts/fetch-prometheus.sh fetch them (it needs a machine with a \
     Debian apt mirror configured)";

/// The `prometheus` binary: `PROMETHEUS_BIN` if set, else fetched once per test binary.
pub fn prometheus_bin() -> PathBuf {
    binary("PROMETHEUS_BIN", "prometheus")
}

/// The `promtool` binary: `PROMTOOL_BIN` if set, else fetched once per test binary.
pub fn promtool_bin() -> PathBuf {
    binary("PROMTOOL_BIN", "promtool")
}

/// The Alertmanager binary: `ALERTMANAGER_BIN` if set, else fetched once per test binary.
pub fn alertmanager_bin() -> PathBuf {
    binary("ALERTMANAGER_BIN", "prometheus-alertmanager")
}

fn binary(var: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{var}={} is not a file: {HOW_TO_PROVIDE}",
            path.display()
        );
        return path;
    }
    fetched_dir().join(name)
}

/// The directory infra/scripts/fetch-prometheus.sh fills, fetched once per test binary.
fn fetched_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo().join("infra/scripts/fetch-prometheus.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "infra/scripts/fetch-prometheus.sh could not provide Prometheus: {HOW_TO_PROVIDE}"
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

/// Runs `promtool args...` in `dir`; returns its combined output, failing on a non-zero exit.
pub fn promtool(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(promtool_bin())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// Waits (at most 60 s) until `{url}/-/ready` answers 200, as Prometheus and Alertmanager do.
pub fn wait_ready(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reqwest::blocking::get(format!("{url}/-/ready")).is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "{what} did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running Prometheus; killed on drop.
pub struct Prometheus {
    child: Child,
    pub url: String,
    _dir: TempDir,
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("{name}-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Prometheus {
    /// Starts Prometheus with `config` (YAML) and waits until it is ready.
    ///
    /// (Debian's builds of Prometheus, 2.53 and 3.5, have the OTLP receiver compiled out, so
    /// the OTLP path is checked against the official OTLP protobuf definitions instead.)
    pub fn start(config: &str) -> Prometheus {
        let dir = TempDir::new("prometheus-e2e");
        let config_path = dir.0.join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let port = free_port();
        let child = Command::new(prometheus_bin())
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.0.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        wait_ready(&prometheus.url, "prometheus");
        prometheus
    }

    /// Evaluates an instant query: the result vector, as (labels, value) pairs.
    pub fn query(&self, expr: &str) -> Vec<(Value, f64)> {
        let response: Value = reqwest::blocking::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(response["status"], "success", "{expr}: {response}");
        let result = &response["data"]["result"];
        match response["data"]["resultType"].as_str() {
            Some("vector") => result
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["metric"].clone(), number(&s["value"][1])))
                .collect(),
            Some("scalar") => vec![(Value::Null, number(&result[1]))],
            other => panic!("{expr}: unexpected result type {other:?}"),
        }
    }

    /// `GET path` of the HTTP API, as JSON.
    pub fn api(&self, path: &str) -> Value {
        reqwest::blocking::get(format!("{}{path}", self.url))
            .unwrap()
            .json()
            .unwrap()
    }
}

fn number(v: &Value) -> f64 {
    match v.as_str() {
        Some("NaN") => f64::NAN,
        Some("+Inf") => f64::INFINITY,
        Some("-Inf") => f64::NEG_INFINITY,
        Some(s) => s.parse().unwrap(),
        None => f64::NAN,
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
