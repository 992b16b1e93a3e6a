//! Starts the example gateway in-process on a free port, with the process's metrics pipeline
//! (render only), for the gateway tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use examples::gateway::config::GatewayConfig;
use examples::gateway::server::{serve_http, Gateway};
use mcp_gateway_metrics::{Config, MetricsGuard, OperationType};

use crate::exposition::{parse, Family};

/// A running gateway.
pub struct Harness {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    server: examples::gateway::server::HttpServer,
    _metrics: MetricsGuard,
}

impl Harness {
    pub async fn start() -> Harness {
        let metrics = Config::builder()
            .serve_prometheus(false)
            .operation_timeout(OperationType::ToolExecution, Duration::from_secs(2))
            .install()
            .expect("one pipeline per test binary");
        let gateway = Gateway::new(GatewayConfig::demo(), "demo");
        let server = serve_http(gateway.clone(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("a free loopback port");
        let addr = server.addr;
        Harness {
            addr,
            gateway,
            server,
            _metrics: metrics,
        }
    }

    /// The exposition, parsed.
    pub fn families(&self) -> BTreeMap<String, Family> {
        let text = mcp_gateway_metrics::render();
        parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    /// The sum of a series (`name`, or `name_count` etc. of a histogram) over matching labels;
    /// 0 when it does not exist.
    pub fn value(&self, series: &str, labels: &[(&str, &str)]) -> f64 {
        let families = self.families();
        let base = ["_count", "_sum", "_bucket"]
            .iter()
            .find_map(|s| series.strip_suffix(s))
            .filter(|b| families.contains_key(*b))
            .unwrap_or(series);
        families.get(base).map_or(0.0, |f| f.value(series, labels))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
    }
}
