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
    ///
    /// Without the `instrument` feature nothing is recorded, so nothing is served or pushed:
    /// the configuration is installed for what still applies (the operation timeouts of
    /// `#[timeout_op]` deadlines).
    pub fn install(mut self) -> Result<MetricsGuard, InitError> {
        if cfg!(not(feature = "instrument")) {
            self.disabled = true;
            self.prometheus = None;
            self.otlp = None;
        }
        if pipeline::global().is_some() {
            return Err(InitError::AlreadyInitialized);
        }
        warn_if_otlp_unused(&self);
        let (pipeline, otlp) = build_pipeline(&self, None)?;
        let pipeline = Arc::new(pipeline);
        #[cfg(feature = "prometheus")]
        let endpoint = match self.prometheus.as_ref().and_then(|p| p.serve_on) {
            Some(address) => Some(exporters::endpoint::Endpoint::serve(
                address,
                Arc::clone(&pipeline),
            )?),
            None => None,
        };
        pipeline::install_global(Arc::clone(&pipeline))
            .map_err(|_| InitError::AlreadyInitialized)?;
        if self.global && !self.disabled {
            opentelemetry::global::set_meter_provider(pipeline.provider().clone());
        }
        Ok(MetricsGuard {
            otlp_endpoint: self.otlp.as_ref().map(|o| o.endpoint.clone()),
            pipeline,
            #[cfg(feature = "prometheus")]
            endpoint,
            otlp,
        })
    }
}

/// An OTLP feature compiled in but OTLP push not selected usually means a forgotten setting:
/// say so, unless the exporters were chosen explicitly.
fn warn_if_otlp_unused(config: &Config) {
    let compiled = cfg!(any(feature = "otlp-http", feature = "otlp-grpc"));
    if compiled && config.otlp.is_none() && !config.exporters_chosen && !config.disabled {
        tracing::warn!(
            target: "mcp_gateway_metrics",
            "an OTLP feature of mcp-gateway-metrics is compiled in, but OTLP push is off: set \
             OTEL_METRICS_EXPORTER=otlp (or prometheus,otlp) or call .otlp(..) to push; set \
             OTEL_METRICS_EXPORTER=prometheus or call .prometheus(true) to silence this"
        );
    }
}

/// Builds a pipeline with the exporters `config` asks for, plus the user's readers and views
/// and, for a test meter, its reader. A disabled configuration gets a provider without
/// readers: its instruments record nothing.
pub(crate) fn build_pipeline(
    config: &Config,
    test_reader: Option<crate::extensions::SharedReader>,
) -> Result<(Pipeline, exporters::OtlpResources), InitError> {
    let mut builder = opentelemetry_sdk::metrics::SdkMeterProvider::builder();
    // A test meter's calls are timed on tokio's clock (paused time works); the others on the
    // time-stamp counter, calibrated now rather than in the first call.
    let clock = if test_reader.is_some() {
        crate::clock::Clock::Tokio
    } else {
        crate::clock::warm_up();
        crate::clock::Clock::Tsc
    };
    if config.disabled {
        let mut pipeline = Pipeline::build(config, builder);
        pipeline.clock = clock;
        return Ok((pipeline, Default::default()));
    }
    if let Some(reader) = test_reader {
        builder = builder.with_reader(reader);
    }
    builder = config.extensions.attach(builder);
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
    let mut pipeline = Pipeline::build(config, builder);
    pipeline.clock = clock;
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
    otlp_endpoint: Option<String>,
    #[cfg(feature = "prometheus")]
    endpoint: Option<exporters::endpoint::Endpoint>,
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

    /// The URL OTLP push exports to, if it is on (the full metrics URL, `/v1/metrics`
    /// included for OTLP/HTTP): worth a line in the application's startup log.
    pub fn otlp_endpoint(&self) -> Option<&str> {
        self.otlp_endpoint.as_deref()
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
            tracing::warn!(
                target: "mcp_gateway_metrics",
                "shutting the meter provider down failed: {e}"
            );
        }
        std::mem::take(&mut self.otlp).shutdown();
    }
}
