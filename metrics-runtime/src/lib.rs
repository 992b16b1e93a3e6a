//! # mcp-gateway-metrics
//!
//! The Secure MCP Gateway's metrics on OpenTelemetry: the full catalog of 32 instruments
//! ([`catalog`]), one owned meter provider ([`init`], [`Config`]), an embedded Prometheus
//! endpoint whose series names are exactly the reference's ([`render`]), OTLP push over HTTP
//! and gRPC, a typed recording API ([`record`]) and an isolated test meter ([`testing`]).
//!
//! ```
//! use std::time::Duration;
//! use mcp_gateway_metrics::record::{self, Outcome, ToolCallLabels};
//!
//! let _metrics = mcp_gateway_metrics::Config::builder()
//!     .service_name("my-gateway")
//!     .serve_prometheus(false) // the default serves http://127.0.0.1:9464/metrics
//!     .install()?;
//!
//! let labels = ToolCallLabels { server_name: "github", tool_name: "create_issue", project_id: "p1" };
//! record::tool_call(&labels, Outcome::Success, Duration::from_millis(420));
//! let _session = record::session_started();
//!
//! let text = mcp_gateway_metrics::render();
//! assert!(text.contains(r#"enkrypt_tool_calls_total{project_id="p1",server_name="github",tool_name="create_issue"} 1"#));
//! assert!(text.contains("enkrypt_active_sessions 1"));
//! # Ok::<(), mcp_gateway_metrics::InitError>(())
//! ```
//!
//! ## Attributes
//!
//! ```
//! use mcp_gateway_metrics::{testing::TestMeter, tool_call, ErrorType};
//!
//! #[derive(Debug, ErrorType)]
//! enum GatewayError { UpstreamUnavailable }
//!
//! #[tool_call] // labels from the `server_name` and `tool_name` parameters
//! fn call_tool(server_name: &str, tool_name: &str, up: bool) -> Result<u32, GatewayError> {
//!     if up { Ok(1) } else { Err(GatewayError::UpstreamUnavailable) }
//! }
//!
//! let meter = TestMeter::new();
//! call_tool("github", "search", true).unwrap();
//! call_tool("github", "search", false).unwrap_err();
//! assert_eq!(meter.counter("enkrypt_tool_calls_total", &[("server_name", "github")]), 2);
//! assert_eq!(meter.counter("enkrypt_tool_call_failure_total", &[("error_type", "upstream_unavailable")]), 1);
//! ```
//!
//! See README for `#[guardrail_check]`, `#[timeout_op]`, `#[cache_lookup]` and `#[auth_check]`.
//!
//! ## Recording before `init()`
//! Measurements recorded before [`init`] are kept in order (up to [`PENDING_CAPACITY`]) and
//! replayed into the pipeline when it is installed, so nothing recorded during startup is
//! lost. Past the capacity they are counted ([`dropped_before_init`]) and a warning is printed
//! once. After the guard returned by `init()` is dropped, the provider is shut down and
//! recordings have nowhere to go: drop the guard last, at the end of `main`.

#![warn(missing_docs)]

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;
mod bound_cache;
pub mod catalog;
mod clock;
mod config;
mod context;
mod deferred;
mod diagnostics;
mod env;
mod error;
pub mod error_labels;
mod error_type;
mod exporters;
mod extensions;
mod init;
mod instruments;
pub mod label_bounds;
mod labels;
#[cfg(feature = "rmcp")]
pub mod mcp;
mod pending;
mod pipeline;
pub mod read;
pub mod record;
pub mod spans;
pub mod testing;
mod verdict;

pub use config::{
    Config, ConfigBuilder, OtlpCompression, OtlpProtocol, OtlpSettings, PrometheusSettings,
    Temporality, DEFAULT_CARDINALITY_LIMIT, DEFAULT_PROMETHEUS_ADDRESS, MAX_CARDINALITY_LIMIT,
};
pub use context::{EnteredContext, InRequest, RequestContext};
pub use error::{ConfigError, InitError};
pub use error_type::{ErrorType, Timeout};
#[cfg(feature = "prometheus")]
pub use exporters::prometheus::{render, CONTENT_TYPE};
pub use init::{init, MetricsGuard};
pub use labels::{CacheType, Direction, OperationType, OutputCheck, UnknownLabelValue};
include!("attributes.rs");
/// Derives [`ErrorType`](trait@ErrorType) for an error enum: each variant's `error_type` is its
/// name in snake_case, unless `#[error_type("name")]` (or `name = "..."`) says otherwise;
/// `#[error_type(status = 400)]` sets its status code, `#[error_type(blocked)]` makes it end a
/// call as blocked (reason = its name), `#[error_type(crash)]` counts it as an error too, and
/// `#[error_type(transparent)]` delegates to the variant's single field.
pub use mcp_gateway_metrics_macros::ErrorType;
/// The OpenTelemetry API this crate records through, re-exported so that your own instruments
/// (`opentelemetry::global::meter(..)`) are on the same version line.
pub use opentelemetry;
/// The OpenTelemetry SDK of the pipeline, for readers and views given to
/// [`ConfigBuilder::with_reader`] and [`ConfigBuilder::with_view`].
pub use opentelemetry_sdk;
pub use pending::{dropped_before_init, pending_before_init, PENDING_CAPACITY};
pub use pipeline::SCOPE_NAME;
pub use verdict::{GuardrailVerdict, Verdict, VerdictSink, Violation};
