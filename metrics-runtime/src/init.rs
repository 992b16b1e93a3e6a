//! Installing the process's pipeline, and the guard that flushes and shuts it down.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::{Config, ConfigBuilder};
use crate::error::InitError;
use crate::exporters;
use crate::pipeline::{self, Pipeline};

/// Installs the metrics pipeline configured by the environment alone (`OTEL_*` and
/// `MCP_METRICS_*` variables) and returns the guard that keeps it running.
///
/// By default this serves the Prometheus exposition at `http://127.0.0.1:9464/metrics`. Call
/// it once, early in `main`, and keep the guard alive until exit. Recordings made before it
/// are kept (up to [`crate::PENDING_CAPACITY`]) and replayed into the pipeline.
///
/// ```no_run
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let _metrics = mcp_gateway_metrics::init()?;
///     // ... run the gateway ...
///     Ok(())
/// }
/// ```
pub fn init() -> Result<MetricsGuard, InitError> {
    Config::builder().install()
}

impl ConfigBuilder {
    /// Validates the settings and installs the pipeline: `build()?.install()`.
    pub fn install(self) -> Result<MetricsGuard, InitError> {
        self.build()?.install()
    }
}

impl Config {
    /// Installs this configuration as the process's pipeline.
    ///
    /// Fails if a pipeline is already installed, if the Prometheus address cannot be listened
    /// on, or if an OTLP exporter cannot be built; each error names the setting and value.
    pub fn install(self) -> Result<MetricsGuard, InitError> {
        if pipeline::global().is_some() {
            return Err(InitError::AlreadyInitialized);
        }
        let (pipeline, otlp) = build_pipeline(&self, None)?;
        let pipeline = Arc::new(pipeline);
        #[cfg(feature = "prometheus")]
        let endpoint = match self.prometheus.as_ref().and_then(|p| p.serve_on) {
            Some(address) => Some(exporters::prometheus::Endpoint::serve(
                address,
                Arc::clone(&pipeline),
            )?),
            None => None,
        };
        pipeline::install_global(Arc::clone(&pipeline))
            .map_err(|_| InitError::AlreadyInitialized)?;
        Ok(MetricsGuard {
            pipeline,
            #[cfg(feature = "prometheus")]
            endpoint,
            otlp,
        })
    }
}

/// Builds a pipeline with the exporters `config` asks for.
pub(crate) fn build_pipeline(
    config: &Config,
    test_reader: Option<crate::testing::SharedReader>,
) -> Result<(Pipeline, exporters::OtlpResources), InitError> {
    let mut builder = opentelemetry_sdk::metrics::SdkMeterProvider::builder();
    if let Some(reader) = test_reader {
        builder = builder.with_reader(reader);
    }
    #[cfg(feature = "prometheus")]
    let mut registry = None;
    #[cfg(feature = "prometheus")]
    if config.prometheus.is_some() {
        let (b, r) = exporters::prometheus::attach(builder);
        builder = b;
        registry = Some(r);
    }
    let mut otlp = exporters::OtlpResources::default();
    if let Some(settings) = &config.otlp {
        let (b, resources) = exporters::attach_otlp(builder, settings)?;
        builder = b;
        otlp = resources;
    }
    #[allow(unused_mut)]
    let mut pipeline = Pipeline::build(config, builder);
    #[cfg(feature = "prometheus")]
    {
        pipeline.registry = registry;
    }
    Ok((pipeline, otlp))
}

/// Keeps the metrics pipeline running; on drop, stops the `/metrics` endpoint, exports what is
/// left (OTLP) and shuts the meter provider down.
///
/// The shutdown runs on a thread of its own, so dropping the guard inside an async runtime
/// (at the end of `#[tokio::main]`, say) cannot deadlock an exporter that needs that runtime.
#[derive(Debug)]
#[must_use = "the pipeline shuts down when the guard is dropped; keep it alive until exit"]
pub struct MetricsGuard {
    pipeline: Arc<Pipeline>,
    #[cfg(feature = "prometheus")]
    endpoint: Option<exporters::prometheus::Endpoint>,
    otlp: exporters::OtlpResources,
}

impl MetricsGuard {
    /// The address the `/metrics` endpoint listens on (useful with port 0), if it is served.
    pub fn prometheus_address(&self) -> Option<SocketAddr> {
        #[cfg(feature = "prometheus")]
        return self.endpoint.as_ref().map(|e| e.address());
        #[cfg(not(feature = "prometheus"))]
        None
    }

    /// Exports everything recorded so far through the push exporters (OTLP) now.
    pub fn flush(&self) -> Result<(), String> {
        let pipeline = Arc::clone(&self.pipeline);
        off_thread(move || pipeline.provider().force_flush()).map_err(|e| e.to_string())
    }
}

/// Runs `f` on a fresh thread and waits: the SDK's blocking flush/shutdown must not run on an
/// async runtime's worker thread.
fn off_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match std::thread::spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

impl Drop for MetricsGuard {
    fn drop(&mut self) {
        #[cfg(feature = "prometheus")]
        drop(self.endpoint.take());
        let pipeline = Arc::clone(&self.pipeline);
        if let Err(e) = off_thread(move || pipeline.provider().shutdown()) {
            eprintln!("metrics-runtime: shutting the meter provider down failed: {e}");
        }
        std::mem::take(&mut self.otlp).shutdown();
    }
}
