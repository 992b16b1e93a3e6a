//! Errors of configuration and initialisation. Each names the setting, the value and a fix.

use std::fmt;

/// A configuration value that cannot be used.
///
/// The message names the setting (builder method and environment variable), the value as
/// given, what is wrong with it and how to fix it.
///
/// ```
/// let err = mcp_gateway_metrics::Config::builder()
///     .prometheus_address("localhost:http")
///     .build()
///     .unwrap_err();
/// let msg = err.to_string();
/// assert!(msg.contains("prometheus_address"), "{msg}");
/// assert!(msg.contains("localhost:http"), "{msg}");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigError {
    setting: String,
    value: String,
    problem: String,
}

impl ConfigError {
    pub(crate) fn new(
        setting: impl Into<String>,
        value: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        ConfigError {
            setting: setting.into(),
            value: value.into(),
            problem: problem.into(),
        }
    }

    /// The setting at fault, e.g. `prometheus_address (MCP_METRICS_PROMETHEUS_ADDRESS)`.
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// The offending value, as given.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid metrics setting {} = {:?}: {}",
            self.setting, self.value, self.problem
        )
    }
}

/// The message itself, so that `fn main() -> Result<(), Box<dyn Error>>` and `unwrap()` print
/// the setting, the value and the fix rather than a struct dump.
impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ConfigError {}

/// Why [`crate::init`] or [`crate::Config::install`] failed.
///
/// Its `Debug` form is its message, so `?` in `main` reports the fix:
///
/// ```
/// let err = mcp_gateway_metrics::Config::builder()
///     .cardinality_limit(0)
///     .install()
///     .unwrap_err();
/// assert_eq!(format!("{err:?}"), err.to_string());
/// assert!(err.to_string().contains("cardinality_limit"));
/// ```
#[non_exhaustive]
pub enum InitError {
    /// A setting is invalid.
    Config(ConfigError),
    /// The process already has a metrics pipeline; there is one per process.
    AlreadyInitialized,
    /// The Prometheus endpoint could not listen on its address (a port in use, say).
    PrometheusListen {
        /// The address as configured.
        address: String,
        /// What the operating system said.
        reason: String,
    },
    /// An OTLP exporter could not be built.
    Otlp {
        /// The endpoint it was built for.
        endpoint: String,
        /// What the exporter said.
        reason: String,
    },
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::Config(e) => e.fmt(f),
            InitError::AlreadyInitialized => f.write_str(
                "the metrics pipeline is already initialised: call mcp_gateway_metrics::init() once \
                 per process and keep its guard alive until exit",
            ),
            InitError::PrometheusListen { address, reason } => write!(
                f,
                "invalid metrics setting prometheus_address (MCP_METRICS_PROMETHEUS_ADDRESS) = \
                 {address:?}: cannot listen there ({reason}); choose a free port, or disable \
                 the endpoint with serve_prometheus(false) and mount render() yourself"
            ),
            InitError::Otlp { endpoint, reason } => write!(
                f,
                "invalid metrics setting otlp_endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) = \
                 {endpoint:?}: the OTLP exporter cannot be built ({reason})"
            ),
        }
    }
}

impl fmt::Debug for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InitError {}

impl From<ConfigError> for InitError {
    fn from(e: ConfigError) -> Self {
        InitError::Config(e)
    }
}
