//! Prometheus text exposition, through `opentelemetry-prometheus` configured so that the series
//! names are exactly the reference's: no unit suffixes (`_seconds` is already in the names, and
//! `_ratio` must not be added to the up-down counters), no `_total` appended (the reference's
//! `enkrypt_list_all_servers_calls` and `enkrypt_timeout_escalation_*` have none), and no
//! `otel_scope_*` labels (every series keeps exactly the catalog's label keys). Resource
//! attributes are exposed once, on `target_info`.

use opentelemetry_sdk::metrics::MeterProviderBuilder;
use prometheus::{Encoder, TextEncoder};

use crate::pipeline::{self, Pipeline};

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Creates a registry and attaches a reader that feeds it.
pub(crate) fn attach(
    builder: MeterProviderBuilder,
) -> (MeterProviderBuilder, prometheus::Registry) {
    let registry = prometheus::Registry::new();
    let exporter = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .without_units()
        .without_counter_suffixes()
        .scope_info_enabled(false)
        .build()
        .expect("a new registry has no collector that could conflict");
    (builder.with_reader(exporter), registry)
}

/// Renders a pipeline's registry as Prometheus text.
pub(crate) fn render_registry(registry: &prometheus::Registry) -> String {
    let mut buf = Vec::new();
    match TextEncoder::new().encode(&registry.gather(), &mut buf) {
        Ok(()) => String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(e) => format!("# mcp-gateway-metrics: encoding failed: {e}\n"),
    }
}

/// The Prometheus text exposition of the current pipeline: what `/metrics` serves. Use it to
/// mount the metrics in your own HTTP server.
///
/// Before [`crate::init`], or when the Prometheus exporter is off, the result is a single
/// comment line saying so (still valid exposition).
///
/// ```
/// let guard = mcp_gateway_metrics::Config::builder()
///     .serve_prometheus(false)
///     .install()?;
/// mcp_gateway_metrics::record::cache_hit(mcp_gateway_metrics::CacheType::Tools);
/// let text = mcp_gateway_metrics::render();
/// assert!(text.contains("enkrypt_cache_hits_total{cache_type=\"tools\"} 1"), "{text}");
/// # drop(guard);
/// # Ok::<(), mcp_gateway_metrics::InitError>(())
/// ```
pub fn render() -> String {
    if cfg!(not(feature = "instrument")) {
        return "# mcp-gateway-metrics: instrumentation compiled out (the `instrument` feature is \
                off): nothing is recorded\n"
            .to_owned();
    }
    pipeline::with_current(|p| match p {
        Some(p) => render_pipeline(p),
        None => {
            "# mcp-gateway-metrics: not initialised; call mcp_gateway_metrics::init()\n".to_owned()
        }
    })
}

pub(crate) fn render_pipeline(p: &Pipeline) -> String {
    match &p.registry {
        Some(registry) => render_registry(registry),
        None if p.disabled => "# mcp-gateway-metrics: disabled (OTEL_SDK_DISABLED)\n".to_owned(),
        None => "# mcp-gateway-metrics: the Prometheus exporter is off in this configuration\n"
            .to_owned(),
    }
}
