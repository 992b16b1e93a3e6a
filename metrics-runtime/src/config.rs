//! Configuration: a builder, the standard `OTEL_*` variables and this crate's `MCP_METRICS_*`
//! variables, merged in that order of precedence (builder, then environment, then default)
//! and validated up front, so that a bad value fails at startup with a message that names it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{Instrument, Stream};

use crate::catalog::{Metric, MetricKind};
use crate::env::{self, Env, Setting};
use crate::error::ConfigError;
use crate::extensions::Extensions;
use crate::labels::OperationType;

/// The default address of the embedded Prometheus endpoint.
pub const DEFAULT_PROMETHEUS_ADDRESS: &str = "127.0.0.1:9464";
/// The default per-metric series limit: at most this many label sets per metric; measurements
/// with any further label set go to one extra overflow series labelled
/// `otel_metric_overflow="true"`, so they are still counted.
pub const DEFAULT_CARDINALITY_LIMIT: usize = 2000;
/// The largest accepted cardinality limit. The OpenTelemetry SDK preallocates its series map
/// for the whole limit, per instrument and reader (about 35 bytes a series), so a limit of
/// 100,000 already costs some 3.5 MB per instrument and reader before anything is recorded.
pub const MAX_CARDINALITY_LIMIT: usize = 100_000;

const SERVICE_NAME: Setting = Setting::new("service_name", "OTEL_SERVICE_NAME");
const RESOURCE: Setting = Setting::new("resource_attribute", "OTEL_RESOURCE_ATTRIBUTES");
const EXPORTERS: Setting = Setting::new("prometheus / otlp", "OTEL_METRICS_EXPORTER");
const DISABLED: Setting = Setting::new("disabled", "OTEL_SDK_DISABLED");
const PROM_ADDR: Setting = Setting::new("prometheus_address", "MCP_METRICS_PROMETHEUS_ADDRESS");
const PROM_HOST: Setting = Setting::new("prometheus_address", "OTEL_EXPORTER_PROMETHEUS_HOST");
const PROM_PORT: Setting = Setting::new("prometheus_address", "OTEL_EXPORTER_PROMETHEUS_PORT");
const OTLP_ENDPOINT: Setting = Setting::new(
    "otlp_endpoint",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT",
);
const OTLP_COMPRESSION: Setting = Setting::new(
    "otlp_compression",
    "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION or OTEL_EXPORTER_OTLP_COMPRESSION",
);
const OTLP_CERTIFICATE: Setting = Setting::new(
    "otlp_certificate",
    "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE or OTEL_EXPORTER_OTLP_CERTIFICATE",
);
const OTLP_PROTOCOL: Setting = Setting::new(
    "otlp",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL",
);
const OTLP_HEADERS: Setting = Setting::new(
    "otlp_header",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS or OTEL_EXPORTER_OTLP_HEADERS",
);
const OTLP_TIMEOUT: Setting = Setting::new(
    "otlp_timeout",
    "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT or OTEL_EXPORTER_OTLP_TIMEOUT",
);
const INTERVAL: Setting = Setting::new("export_interval", "OTEL_METRIC_EXPORT_INTERVAL");
const EXPORT_TIMEOUT: Setting = Setting::new("otlp_timeout", "OTEL_METRIC_EXPORT_TIMEOUT");
/// Standard variables this crate cannot honour, with the reason it refuses them.
const REFUSED: &[(&str, &str)] = &[
    (
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "client certificates (mutual TLS) are not supported; terminate mutual TLS in a local \
         OpenTelemetry Collector and push to it",
    ),
    (
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        "client certificates (mutual TLS) are not supported; terminate mutual TLS in a local \
         OpenTelemetry Collector and push to it",
    ),
    (
        "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
        "client certificates (mutual TLS) are not supported; terminate mutual TLS in a local \
         OpenTelemetry Collector and push to it",
    ),
    (
        "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
        "client certificates (mutual TLS) are not supported; terminate mutual TLS in a local \
         OpenTelemetry Collector and push to it",
    ),
];
const TEMPORALITY: Setting = Setting::new(
    "temporality",
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
);
const BUCKETS: Setting = Setting::new("buckets", "MCP_METRICS_BUCKETS");
const DROP_LABELS: Setting = Setting::new("drop_label", "MCP_METRICS_DROP_LABELS");
const CARDINALITY: Setting = Setting::new("cardinality_limit", "MCP_METRICS_CARDINALITY_LIMIT");
const MAX_LABEL_LENGTH: Setting = Setting::new("max_label_length", "MCP_METRICS_MAX_LABEL_LENGTH");
const LABEL_BUDGET: Setting = Setting::new("label_value_budget", "MCP_METRICS_LABEL_VALUE_BUDGET");
const TIMEOUTS: Setting = Setting::new("operation_timeout", "MCP_METRICS_TIMEOUT_<OPERATION>");

/// The transport of OTLP push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`), default port 4318. Feature `otlp-http`.
    HttpProtobuf,
    /// OTLP/gRPC (`grpc`), default port 4317. Feature `otlp-grpc`.
    Grpc,
}

impl OtlpProtocol {
    fn parse(value: &str) -> Result<Self, ConfigError> {
        match value.trim() {
            "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
            "grpc" => Ok(OtlpProtocol::Grpc),
            _ => Err(OTLP_PROTOCOL.error(value, "expected http/protobuf or grpc")),
        }
    }

    fn default_endpoint(self) -> &'static str {
        match self {
            OtlpProtocol::HttpProtobuf => "http://localhost:4318",
            OtlpProtocol::Grpc => "http://localhost:4317",
        }
    }

    fn check_compiled_in(self, value: &str) -> Result<(), ConfigError> {
        let (compiled, feature) = match self {
            OtlpProtocol::HttpProtobuf => (cfg!(feature = "otlp-http"), "otlp-http"),
            OtlpProtocol::Grpc => (cfg!(feature = "otlp-grpc"), "otlp-grpc"),
        };
        if compiled {
            Ok(())
        } else {
            Err(OTLP_PROTOCOL.error(
                value,
                format!("mcp-gateway-metrics was built without the `{feature}` feature; enable it in Cargo.toml"),
            ))
        }
    }
}

/// Aggregation temporality of OTLP push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    /// Totals since start (the default; what Prometheus' OTLP receiver needs).
    Cumulative,
    /// Changes since the last export.
    Delta,
}

/// Compression of OTLP export bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpCompression {
    /// Uncompressed (the default).
    None,
    /// gzip.
    Gzip,
}

/// Settings of the Prometheus exposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrometheusSettings {
    /// Where the embedded endpoint listens; `None` when only [`crate::render`] is used.
    pub serve_on: Option<SocketAddr>,
}

/// Settings of OTLP push.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpSettings {
    /// The transport.
    pub protocol: OtlpProtocol,
    /// The collector's URL (for HTTP, `/v1/metrics` is appended to a URL without a path).
    pub endpoint: String,
    /// Extra request headers (authentication, say).
    pub headers: Vec<(String, String)>,
    /// How long one export may take.
    pub timeout: Duration,
    /// How often to export.
    pub interval: Duration,
    /// Cumulative (default) or delta.
    pub temporality: Temporality,
    /// Body compression (default none).
    pub compression: OtlpCompression,
    /// A PEM CA certificate trusted for `https://` endpoints, besides the system's roots.
    pub certificate: Option<Vec<u8>>,
}

/// A validated configuration. Build one with [`Config::builder`], then
/// [`install`](Config::install) it.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub(crate) service_name: String,
    pub(crate) resource: Vec<(String, String)>,
    pub(crate) prometheus: Option<PrometheusSettings>,
    pub(crate) otlp: Option<OtlpSettings>,
    pub(crate) buckets: BTreeMap<Metric, Vec<f64>>,
    pub(crate) dropped_labels: BTreeMap<Metric, Vec<&'static str>>,
    pub(crate) cardinality_limit: usize,
    pub(crate) max_label_length: usize,
    pub(crate) label_value_budget: usize,
    pub(crate) operation_timeouts: [Duration; OperationType::ALL.len()],
    pub(crate) disabled: bool,
    pub(crate) global: bool,
    pub(crate) exporters_chosen: bool,
    pub(crate) extensions: Extensions,
}

impl Config {
    /// Starts a builder with nothing set: everything comes from the environment or defaults.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_gateway_metrics::{catalog::Metric, Config, OperationType};
    ///
    /// let config = Config::builder()
    ///     .service_name("my-gateway")
    ///     .service_version("1.2.3")
    ///     .serve_prometheus(false)
    ///     .buckets(Metric::ToolCallDuration, [0.05, 0.1, 0.5, 1.0])
    ///     .drop_label(Metric::ListAllServersCalls, "user_id")
    ///     .operation_timeout(OperationType::Guardrail, Duration::from_secs(5))
    ///     .build()?;
    /// assert_eq!(config.operation_timeout(OperationType::Guardrail), Duration::from_secs(5));
    /// assert_eq!(config.buckets_of(Metric::ToolCallDuration), &[0.05, 0.1, 0.5, 1.0]);
    /// # Ok::<(), mcp_gateway_metrics::ConfigError>(())
    /// ```
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The effective bucket boundaries of a histogram (empty for other kinds).
    pub fn buckets_of(&self, metric: Metric) -> &[f64] {
        self.buckets
            .get(&metric)
            .map(Vec::as_slice)
            .unwrap_or(metric.def().buckets)
    }

    /// The label keys a metric keeps after [`ConfigBuilder::drop_label`].
    pub fn labels_of(&self, metric: Metric) -> Vec<&'static str> {
        let dropped = self.dropped_labels.get(&metric);
        metric
            .def()
            .labels
            .iter()
            .copied()
            .filter(|l| dropped.is_none_or(|d| !d.contains(l)))
            .collect()
    }

    /// The timeout of an operation type.
    pub fn operation_timeout(&self, op: OperationType) -> Duration {
        self.operation_timeouts[op.index()]
    }

    /// The per-instrument series limit.
    pub fn cardinality_limit(&self) -> usize {
        self.cardinality_limit
    }

    /// The Prometheus settings, if the Prometheus exporter is on.
    pub fn prometheus(&self) -> Option<&PrometheusSettings> {
        self.prometheus.as_ref()
    }

    /// The OTLP settings, if OTLP push is on.
    pub fn otlp(&self) -> Option<&OtlpSettings> {
        self.otlp.as_ref()
    }

    /// Whether the SDK is disabled (`OTEL_SDK_DISABLED=true`): nothing is recorded or served.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// The resource attributes the metrics carry (`service.name`, `service.version`,
    /// `service.instance.id` and any others given).
    pub fn resource(&self) -> &[(String, String)] {
        &self.resource
    }
}

/// Builds a [`Config`]. Every setter overrides the matching environment variable.
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct ConfigBuilder {
    service_name: Option<String>,
    service_version: Option<String>,
    instance_id: Option<String>,
    resource: Vec<(String, String)>,
    prometheus: Option<bool>,
    serve_prometheus: Option<bool>,
    prometheus_address: Option<String>,
    otlp: Option<OtlpProtocol>,
    otlp_endpoint: Option<String>,
    otlp_headers: Vec<(String, String)>,
    otlp_timeout: Option<Duration>,
    export_interval: Option<Duration>,
    temporality: Option<Temporality>,
    buckets: Vec<(Metric, Vec<f64>)>,
    dropped_labels: Vec<(Metric, String)>,
    cardinality_limit: Option<usize>,
    max_label_length: Option<usize>,
    label_value_budget: Option<usize>,
    operation_timeouts: Vec<(OperationType, Duration)>,
    disabled: Option<bool>,
    global: Option<bool>,
    otlp_compression: Option<OtlpCompression>,
    otlp_certificate: Option<PathBuf>,
    extensions: Extensions,
}

impl ConfigBuilder {
    /// `service.name` of the resource (else `OTEL_SERVICE_NAME`, then
    /// `OTEL_RESOURCE_ATTRIBUTES`, then `unknown_service`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// `service.version` of the resource, typically `env!("CARGO_PKG_VERSION")`.
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = Some(version.into());
        self
    }

    /// `service.instance.id` of the resource (else from `OTEL_RESOURCE_ATTRIBUTES`, else a
    /// random UUID, so that two replicas never collide in Prometheus' OTLP receiver).
    pub fn service_instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = Some(id.into());
        self
    }

    /// Any other resource attribute (adds to `OTEL_RESOURCE_ATTRIBUTES`).
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// Turns the Prometheus exporter on or off (default: on, unless `OTEL_METRICS_EXPORTER`
    /// leaves it out).
    pub fn prometheus(mut self, enabled: bool) -> Self {
        self.prometheus = Some(enabled);
        self
    }

    /// Whether to serve the embedded `/metrics` endpoint (default: yes). With `false` the
    /// exposition is only available through [`crate::render`].
    pub fn serve_prometheus(mut self, serve: bool) -> Self {
        self.serve_prometheus = Some(serve);
        self
    }

    /// Where the embedded endpoint listens (default `127.0.0.1:9464`, loopback only). Give
    /// `0.0.0.0:9464` to expose it to other hosts, or port 0 for any free port.
    pub fn prometheus_address(mut self, address: impl Into<String>) -> Self {
        self.prometheus_address = Some(address.into());
        self
    }

    /// Turns OTLP push on with the given transport.
    pub fn otlp(mut self, protocol: OtlpProtocol) -> Self {
        self.otlp = Some(protocol);
        self
    }

    /// The collector's URL (default `http://localhost:4318` for HTTP, `:4317` for gRPC).
    pub fn otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otlp_endpoint = Some(url.into());
        self
    }

    /// Adds a request header to every OTLP export.
    pub fn otlp_header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.otlp_headers.push((key.into(), value.into()));
        self
    }

    /// How long one OTLP export may take (default 10 s).
    pub fn otlp_timeout(mut self, timeout: Duration) -> Self {
        self.otlp_timeout = Some(timeout);
        self
    }

    /// How often OTLP push exports (default 60 s).
    pub fn export_interval(mut self, interval: Duration) -> Self {
        self.export_interval = Some(interval);
        self
    }

    /// Temporality of OTLP push (default cumulative).
    pub fn temporality(mut self, temporality: Temporality) -> Self {
        self.temporality = Some(temporality);
        self
    }

    /// Replaces a histogram's bucket boundaries (finite, strictly increasing).
    pub fn buckets(mut self, metric: Metric, bounds: impl IntoIterator<Item = f64>) -> Self {
        self.buckets.push((metric, bounds.into_iter().collect()));
        self
    }

    /// Drops a label key from a metric: its series are merged over that label.
    pub fn drop_label(mut self, metric: Metric, label: impl Into<String>) -> Self {
        self.dropped_labels.push((metric, label.into()));
        self
    }

    /// The per-metric series limit (default 2000); past it, new label sets are counted in
    /// one overflow series.
    pub fn cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = Some(limit);
        self
    }

    /// The longest label value kept, in bytes (default 128); a longer one is recorded as
    /// `_too_long`. See [`crate::label_bounds`].
    pub fn max_label_length(mut self, bytes: usize) -> Self {
        self.max_label_length = Some(bytes);
        self
    }

    /// How many distinct values each request-derived label key (`project_id`, `user_id`)
    /// admits (default 100); further values are recorded as `_other`. See
    /// [`crate::label_bounds`].
    pub fn label_value_budget(mut self, values: usize) -> Self {
        self.label_value_budget = Some(values);
        self
    }

    /// Overrides the timeout of an operation type (defaults: see
    /// [`OperationType::default_timeout`]).
    pub fn operation_timeout(mut self, op: OperationType, timeout: Duration) -> Self {
        self.operation_timeouts.push((op, timeout));
        self
    }

    /// Disables the SDK (else `OTEL_SDK_DISABLED`): nothing is recorded, served or pushed, and
    /// every recording call is a cheap no-op.
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.disabled = Some(disabled);
        self
    }

    /// Whether the installed provider also becomes OpenTelemetry's global meter provider
    /// (default: yes). Then every instrument created with `opentelemetry::global::meter(..)`,
    /// by the application or a library it uses, is exported with the catalog: on the same
    /// `/metrics`, in the same OTLP push, with the same resource.
    pub fn global_meter_provider(mut self, global: bool) -> Self {
        self.global = Some(global);
        self
    }

    /// Adds a metric reader of your own (a `PeriodicReader` with any exporter, say) to the
    /// provider: it sees every instrument, the catalog's and the application's.
    ///
    /// ```
    /// use mcp_gateway_metrics::opentelemetry_sdk::metrics::ManualReader;
    ///
    /// let config = mcp_gateway_metrics::Config::builder()
    ///     .with_reader(ManualReader::builder().build())
    ///     .build()?;
    /// # Ok::<(), mcp_gateway_metrics::ConfigError>(())
    /// ```
    pub fn with_reader(mut self, reader: impl MetricReader) -> Self {
        self.extensions.readers.push(Arc::new(reader));
        self
    }

    /// Adds a view of your own. It applies to instruments outside the catalog only: the
    /// catalog's names, label keys and buckets are the contract (change them with
    /// [`buckets`](Self::buckets) and [`drop_label`](Self::drop_label)).
    ///
    /// ```
    /// use mcp_gateway_metrics::opentelemetry_sdk::metrics::{Instrument, Stream};
    ///
    /// let config = mcp_gateway_metrics::Config::builder()
    ///     .with_view(|i: &Instrument| {
    ///         (i.name() == "http_request_duration").then(|| {
    ///             Stream::builder().with_name("http_request_duration_seconds").build().unwrap()
    ///         })
    ///     })
    ///     .build()?;
    /// # Ok::<(), mcp_gateway_metrics::ConfigError>(())
    /// ```
    pub fn with_view(
        mut self,
        view: impl Fn(&Instrument) -> Option<Stream> + Send + Sync + 'static,
    ) -> Self {
        self.extensions.views.push(Arc::new(view));
        self
    }

    /// Compression of OTLP export bodies (else `OTEL_EXPORTER_OTLP_COMPRESSION`; default none).
    pub fn otlp_compression(mut self, compression: OtlpCompression) -> Self {
        self.otlp_compression = Some(compression);
        self
    }

    /// A PEM file with a CA certificate to trust for an `https://` OTLP endpoint, besides the
    /// system's roots (else `OTEL_EXPORTER_OTLP_CERTIFICATE`). Needs the `otlp-tls` feature.
    pub fn otlp_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.otlp_certificate = Some(path.into());
        self
    }

    /// Validates the settings against the process environment.
    pub fn build(self) -> Result<Config, ConfigError> {
        self.build_with_env(|name: &str| std::env::var(name).ok())
    }

    /// Validates the settings against an explicit environment instead of the process's, for
    /// tests and for programs that keep their configuration elsewhere.
    ///
    /// ```
    /// use mcp_gateway_metrics::Config;
    /// let err = Config::builder()
    ///     .build_with_env(|name| (name == "MCP_METRICS_CARDINALITY_LIMIT").then(|| "lots".to_string()))
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("MCP_METRICS_CARDINALITY_LIMIT"));
    /// ```
    pub fn build_with_env(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        self.resolve(&env)
    }

    fn resolve(self, env: &dyn Env) -> Result<Config, ConfigError> {
        for (var, reason) in REFUSED {
            if let Some(value) = env.var(var) {
                return Err(ConfigError::new(*var, value, *reason));
            }
        }
        let disabled = match self.disabled {
            Some(d) => d,
            None => env
                .var(DISABLED.var)
                .is_some_and(|v| env::flag(DISABLED, &v)),
        };
        let (mut prometheus, mut otlp) = (None, None);
        if !disabled {
            let (prometheus_on, otlp_from_env) = self.exporters(env)?;
            if prometheus_on {
                prometheus = Some(self.prometheus_settings(env)?);
            }
            if let Some(protocol) = self.otlp.or(otlp_from_env) {
                otlp = Some(self.otlp_settings(env, protocol)?);
            }
        }
        let (service_name, resource) = self.resolve_resource(env)?;
        Ok(Config {
            service_name,
            resource,
            prometheus,
            otlp,
            buckets: self.resolve_buckets(env)?,
            dropped_labels: self.resolve_dropped_labels(env)?,
            cardinality_limit: self.resolve_cardinality(env)?,
            max_label_length: positive_count(
                MAX_LABEL_LENGTH,
                self.max_label_length,
                env,
                crate::label_bounds::DEFAULT_MAX_LABEL_LENGTH,
            )?,
            label_value_budget: positive_count(
                LABEL_BUDGET,
                self.label_value_budget,
                env,
                crate::label_bounds::DEFAULT_LABEL_VALUE_BUDGET,
            )?,
            operation_timeouts: self.resolve_timeouts(env)?,
            disabled,
            global: self.global.unwrap_or(true),
            exporters_chosen: self.otlp.is_some()
                || self.prometheus.is_some()
                || env.var(EXPORTERS.var).is_some(),
            extensions: self.extensions,
        })
    }

    /// Which exporters are on: (prometheus, OTLP protocol chosen by the environment).
    fn exporters(&self, env: &dyn Env) -> Result<(bool, Option<OtlpProtocol>), ConfigError> {
        let from_env = env.var(EXPORTERS.var);
        let (mut prometheus, mut otlp) = (cfg!(feature = "prometheus"), false);
        if let Some(list) = &from_env {
            prometheus = false;
            for item in list.split(',').map(str::trim) {
                match item {
                    "prometheus" => prometheus = true,
                    "otlp" => otlp = true,
                    "none" => {}
                    other => {
                        return Err(EXPORTERS.error(
                            list,
                            format!(
                                "unknown exporter {other:?}; expected prometheus, otlp or none"
                            ),
                        ))
                    }
                }
            }
        }
        let prometheus = self.prometheus.unwrap_or(prometheus);
        if prometheus && !cfg!(feature = "prometheus") {
            return Err(EXPORTERS.error(
                from_env.as_deref().unwrap_or("prometheus"),
                "mcp-gateway-metrics was built without the `prometheus` feature; enable it in Cargo.toml",
            ));
        }
        let otlp = if otlp && self.otlp.is_none() {
            Some(self.env_protocol(env)?)
        } else {
            None
        };
        Ok((prometheus, otlp))
    }

    fn env_protocol(&self, env: &dyn Env) -> Result<OtlpProtocol, ConfigError> {
        match env
            .var("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
            .or_else(|| env.var("OTEL_EXPORTER_OTLP_PROTOCOL"))
        {
            Some(v) => OtlpProtocol::parse(&v),
            None if cfg!(feature = "otlp-http") || !cfg!(feature = "otlp-grpc") => {
                Ok(OtlpProtocol::HttpProtobuf)
            }
            None => Ok(OtlpProtocol::Grpc),
        }
    }

    fn prometheus_settings(&self, env: &dyn Env) -> Result<PrometheusSettings, ConfigError> {
        if !self.serve_prometheus.unwrap_or(true) {
            return Ok(PrometheusSettings { serve_on: None });
        }
        let (setting, address) = match (&self.prometheus_address, env.var(PROM_ADDR.var)) {
            (Some(address), _) => (PROM_ADDR, address.clone()),
            (None, Some(address)) => (PROM_ADDR, address),
            (None, None) => {
                let port = match env.var(PROM_PORT.var) {
                    Some(p) => {
                        p.trim().parse::<u16>().map_err(|_| {
                            PROM_PORT
                                .error(&p, "expected a port number from 0 to 65535, such as 9464")
                        })?;
                        p.trim().to_owned()
                    }
                    None => "9464".to_owned(),
                };
                let host = env.var(PROM_HOST.var).map(|h| h.trim().to_owned());
                let host = match host.as_deref() {
                    None => "127.0.0.1".to_owned(),
                    // An IPv6 address needs brackets before the port.
                    Some(h) if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
                    Some(h) => h.to_owned(),
                };
                (PROM_HOST, format!("{host}:{port}"))
            }
        };
        Ok(PrometheusSettings {
            serve_on: Some(env::socket_addr(setting, &address)?),
        })
    }

    fn otlp_settings(
        &self,
        env: &dyn Env,
        protocol: OtlpProtocol,
    ) -> Result<OtlpSettings, ConfigError> {
        let protocol_name = match protocol {
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::Grpc => "grpc",
        };
        protocol.check_compiled_in(protocol_name)?;
        let specific = env.var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        let endpoint = match (&self.otlp_endpoint, specific) {
            (Some(url), _) => with_metrics_path(protocol, env::endpoint(OTLP_ENDPOINT, url)?),
            // The signal-specific variable is used verbatim, as the specification says.
            (None, Some(url)) => env::endpoint(OTLP_ENDPOINT, &url)?,
            // The base endpoint gets the signal's path, whatever path it has, as the
            // specification says (`http://collector:4318/otlp` -> `.../otlp/v1/metrics`).
            (None, None) => {
                let base = env
                    .var("OTEL_EXPORTER_OTLP_ENDPOINT")
                    .unwrap_or_else(|| protocol.default_endpoint().to_owned());
                signal_endpoint(protocol, env::endpoint(OTLP_ENDPOINT, &base)?)
            }
        };
        if endpoint.starts_with("https://") && !cfg!(feature = "otlp-tls") {
            // Without TLS compiled in an https endpoint would fail every export, silently.
            return Err(OTLP_ENDPOINT.error(
                &endpoint,
                "TLS is not compiled in: enable the `otlp-tls` feature of mcp-gateway-metrics, \
                 or push over http:// to a local OpenTelemetry Collector",
            ));
        }
        let mut headers = match env
            .var("OTEL_EXPORTER_OTLP_METRICS_HEADERS")
            .or_else(|| env.var("OTEL_EXPORTER_OTLP_HEADERS"))
        {
            Some(v) => env::key_values(OTLP_HEADERS, &v)?,
            None => Vec::new(),
        };
        headers.extend(self.otlp_headers.iter().cloned());
        for (name, value) in &headers {
            env::header(OTLP_HEADERS, name, value)?;
        }
        let timeout = match self.otlp_timeout {
            Some(t) => positive(OTLP_TIMEOUT, t)?,
            None => match env
                .var("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT")
                .or_else(|| env.var("OTEL_EXPORTER_OTLP_TIMEOUT"))
            {
                Some(v) => env::millis(OTLP_TIMEOUT, &v)?,
                None => match env.var(EXPORT_TIMEOUT.var) {
                    Some(v) => env::millis(EXPORT_TIMEOUT, &v)?,
                    None => Duration::from_secs(10),
                },
            },
        };
        let interval = match self.export_interval {
            Some(t) => positive(INTERVAL, t)?,
            None => match env.var(INTERVAL.var) {
                Some(v) => env::millis(INTERVAL, &v)?,
                None => Duration::from_secs(60),
            },
        };
        let temporality = match self.temporality {
            Some(t) => t,
            None => match env.var(TEMPORALITY.var) {
                Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                    "cumulative" => Temporality::Cumulative,
                    "delta" => Temporality::Delta,
                    _ => return Err(TEMPORALITY.error(&v, "expected cumulative or delta")),
                },
                None => Temporality::Cumulative,
            },
        };
        let compression = match self.otlp_compression {
            Some(c) => c,
            None => match env
                .var("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION")
                .or_else(|| env.var("OTEL_EXPORTER_OTLP_COMPRESSION"))
            {
                Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                    "gzip" => OtlpCompression::Gzip,
                    "none" => OtlpCompression::None,
                    _ => return Err(OTLP_COMPRESSION.error(&v, "expected gzip or none")),
                },
                None => OtlpCompression::None,
            },
        };
        let certificate_path = self
            .otlp_certificate
            .as_ref()
            .map(|p| p.display().to_string())
            .or_else(|| env.var("OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE"))
            .or_else(|| env.var("OTEL_EXPORTER_OTLP_CERTIFICATE"));
        let certificate = match certificate_path {
            Some(path) => Some(read_certificate(&path)?),
            None => None,
        };
        Ok(OtlpSettings {
            protocol,
            endpoint,
            headers,
            timeout,
            interval,
            temporality,
            compression,
            certificate,
        })
    }

    fn resolve_buckets(&self, env: &dyn Env) -> Result<BTreeMap<Metric, Vec<f64>>, ConfigError> {
        let mut out = BTreeMap::new();
        // MCP_METRICS_BUCKETS="enkrypt_tool_call_duration_seconds=0.05,0.1,1;other=..."
        if let Some(spec) = env.var(BUCKETS.var) {
            for item in spec.split(';').filter(|i| !i.trim().is_empty()) {
                let (name, list) = item.split_once('=').ok_or_else(|| {
                    BUCKETS.error(
                        item,
                        "expected metric_name=bound,bound,... items separated by ;",
                    )
                })?;
                let metric = histogram(BUCKETS, name.trim(), item)?;
                out.insert(metric, env::number_list(BUCKETS, list)?);
            }
        }
        for (metric, bounds) in &self.buckets {
            let def = metric.def();
            if def.kind != MetricKind::Histogram {
                return Err(BUCKETS.error(
                    def.name,
                    format!("{} is a {:?}, not a histogram", def.name, def.kind),
                ));
            }
            out.insert(*metric, bounds.clone());
        }
        for (metric, bounds) in &out {
            env::buckets(BUCKETS, metric.name(), bounds)?;
        }
        Ok(out)
    }

    fn resolve_dropped_labels(
        &self,
        env: &dyn Env,
    ) -> Result<BTreeMap<Metric, Vec<&'static str>>, ConfigError> {
        let mut pairs: Vec<(Metric, String, String)> = Vec::new();
        // MCP_METRICS_DROP_LABELS="enkrypt_list_all_servers_calls:user_id,other:label"
        if let Some(spec) = env.var(DROP_LABELS.var) {
            for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                let (name, label) = item.split_once(':').ok_or_else(|| {
                    DROP_LABELS.error(item, "expected metric_name:label_key items separated by ,")
                })?;
                let metric = Metric::from_name(name.trim()).ok_or_else(|| {
                    DROP_LABELS.error(item, format!("no metric is named {:?}", name.trim()))
                })?;
                pairs.push((metric, label.trim().to_owned(), item.to_owned()));
            }
        }
        pairs.extend(
            self.dropped_labels
                .iter()
                .map(|(m, l)| (*m, l.clone(), format!("{}:{l}", m.name()))),
        );
        let mut out: BTreeMap<Metric, Vec<&'static str>> = BTreeMap::new();
        for (metric, label, shown) in pairs {
            let def = metric.def();
            let key = def
                .labels
                .iter()
                .copied()
                .find(|k| *k == label)
                .ok_or_else(|| {
                    DROP_LABELS.error(
                        &shown,
                        format!(
                            "{} has no label {label:?}; its labels are: {}",
                            def.name,
                            if def.labels.is_empty() {
                                "none".to_owned()
                            } else {
                                def.labels.join(", ")
                            }
                        ),
                    )
                })?;
            out.entry(metric).or_default().push(key);
        }
        Ok(out)
    }

    fn resolve_cardinality(&self, env: &dyn Env) -> Result<usize, ConfigError> {
        let (limit, shown) = match (self.cardinality_limit, env.var(CARDINALITY.var)) {
            (Some(l), _) => (l, l.to_string()),
            (None, Some(v)) => (
                v.trim().parse::<usize>().map_err(|_| {
                    CARDINALITY.error(&v, "expected a whole number of series, such as 2000")
                })?,
                v,
            ),
            (None, None) => return Ok(DEFAULT_CARDINALITY_LIMIT),
        };
        if limit == 0 || limit > MAX_CARDINALITY_LIMIT {
            return Err(CARDINALITY.error(
                &shown,
                format!(
                    "expected a number of series per metric from 1 to {MAX_CARDINALITY_LIMIT}, \
                     such as 2000 (the SDK preallocates memory for the whole limit)"
                ),
            ));
        }
        Ok(limit)
    }

    fn resolve_timeouts(
        &self,
        env: &dyn Env,
    ) -> Result<[Duration; OperationType::ALL.len()], ConfigError> {
        let mut out: [Duration; OperationType::ALL.len()] =
            std::array::from_fn(|i| OperationType::ALL[i].default_timeout());
        for op in OperationType::ALL {
            let setting = Setting::new("operation_timeout", timeout_var(*op));
            if let Some(v) = env.var(setting.var) {
                out[op.index()] = env::duration(setting, &v)?;
            }
        }
        for (op, timeout) in &self.operation_timeouts {
            out[op.index()] = positive(TIMEOUTS, *timeout)?;
        }
        Ok(out)
    }

    fn resolve_resource(
        &self,
        env: &dyn Env,
    ) -> Result<(String, Vec<(String, String)>), ConfigError> {
        let mut attrs: BTreeMap<String, String> = match env.var(RESOURCE.var) {
            Some(v) => env::key_values(RESOURCE, &v)?.into_iter().collect(),
            None => BTreeMap::new(),
        };
        attrs.extend(self.resource.iter().cloned());
        let service_name = self
            .service_name
            .clone()
            .or_else(|| env.var(SERVICE_NAME.var))
            .or_else(|| attrs.get("service.name").cloned())
            .unwrap_or_else(|| "unknown_service".to_owned());
        if service_name.trim().is_empty() {
            return Err(SERVICE_NAME.error(&service_name, "the service name must not be empty"));
        }
        attrs.insert("service.name".into(), service_name.clone());
        if let Some(v) = &self.service_version {
            attrs.insert("service.version".into(), v.clone());
        }
        attrs
            .entry("service.version".into())
            .or_insert_with(|| "unknown".into());
        if let Some(id) = &self.instance_id {
            attrs.insert("service.instance.id".into(), id.clone());
        }
        attrs
            .entry("service.instance.id".into())
            .or_insert_with(|| uuid::Uuid::new_v4().to_string());
        Ok((service_name, attrs.into_iter().collect()))
    }
}

/// A count from the builder, else the environment, else `default`; at least 1.
fn positive_count(
    setting: Setting,
    given: Option<usize>,
    env: &dyn Env,
    default: usize,
) -> Result<usize, ConfigError> {
    let (value, shown) = match (given, env.var(setting.var)) {
        (Some(n), _) => (n, n.to_string()),
        (None, Some(v)) => (
            v.trim()
                .parse::<usize>()
                .map_err(|_| setting.error(&v, "expected a whole number, such as 100"))?,
            v,
        ),
        (None, None) => return Ok(default),
    };
    if value == 0 {
        return Err(setting.error(&shown, "must be at least 1"));
    }
    Ok(value)
}

fn histogram(setting: Setting, name: &str, shown: &str) -> Result<Metric, ConfigError> {
    match Metric::from_name(name) {
        Some(m) if m.def().kind == MetricKind::Histogram => Ok(m),
        Some(_) => Err(setting.error(shown, format!("{name} is not a histogram"))),
        None => Err(setting.error(shown, format!("no metric is named {name:?}"))),
    }
}

fn positive(setting: Setting, d: Duration) -> Result<Duration, ConfigError> {
    if d.is_zero() {
        Err(setting.error(&format!("{d:?}"), "must be greater than zero"))
    } else {
        Ok(d)
    }
}

/// A CA certificate file for OTLP over TLS, read and checked at startup.
fn read_certificate(path: &str) -> Result<Vec<u8>, ConfigError> {
    if !cfg!(feature = "otlp-tls") {
        return Err(OTLP_CERTIFICATE.error(
            path,
            "TLS is not compiled in: enable the `otlp-tls` feature of mcp-gateway-metrics",
        ));
    }
    let pem = std::fs::read(path)
        .map_err(|e| OTLP_CERTIFICATE.error(path, format!("cannot read the file ({e})")))?;
    #[cfg(feature = "otlp-tls")]
    crate::exporters::tls::pem_certificates(&pem)
        .map_err(|problem| OTLP_CERTIFICATE.error(path, problem))?;
    Ok(pem)
}

/// The metrics endpoint of a base endpoint: `/v1/metrics` appended for OTLP/HTTP.
fn signal_endpoint(protocol: OtlpProtocol, base: String) -> String {
    match protocol {
        OtlpProtocol::HttpProtobuf => format!("{}/v1/metrics", base.trim_end_matches('/')),
        OtlpProtocol::Grpc => base,
    }
}

/// The builder's endpoint: `/v1/metrics` appended for OTLP/HTTP when the URL has no path.
fn with_metrics_path(protocol: OtlpProtocol, url: String) -> String {
    let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
    let has_path = after_scheme
        .split_once('/')
        .is_some_and(|(_, p)| !p.is_empty());
    match protocol {
        OtlpProtocol::HttpProtobuf if !has_path => {
            format!("{}/v1/metrics", url.trim_end_matches('/'))
        }
        _ => url,
    }
}

/// The variable that overrides an operation type's timeout.
const fn timeout_var(op: OperationType) -> &'static str {
    match op {
        OperationType::Default => "MCP_METRICS_TIMEOUT_DEFAULT",
        OperationType::Guardrail => "MCP_METRICS_TIMEOUT_GUARDRAIL",
        OperationType::Auth => "MCP_METRICS_TIMEOUT_AUTH",
        OperationType::ToolExecution => "MCP_METRICS_TIMEOUT_TOOL_EXECUTION",
        OperationType::Discovery => "MCP_METRICS_TIMEOUT_DISCOVERY",
        OperationType::Cache => "MCP_METRICS_TIMEOUT_CACHE",
        OperationType::Connectivity => "MCP_METRICS_TIMEOUT_CONNECTIVITY",
    }
}
