//! The exporters, each behind its cargo feature.

#[cfg(feature = "prometheus")]
pub mod endpoint;
#[cfg(feature = "prometheus")]
pub mod prometheus;

#[cfg(all(feature = "otlp-http", feature = "otlp-tls"))]
mod https;
#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
mod otlp;
#[cfg(feature = "otlp-tls")]
pub(crate) mod tls;
#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
pub(crate) use otlp::{attach as attach_otlp, OtlpResources};

/// Without an OTLP feature there is nothing to keep; configuration already refuses OTLP.
#[cfg(not(any(feature = "otlp-http", feature = "otlp-grpc")))]
#[derive(Debug, Default)]
pub(crate) struct OtlpResources {}

#[cfg(not(any(feature = "otlp-http", feature = "otlp-grpc")))]
impl OtlpResources {
    pub(crate) fn shutdown(self) {}
}

#[cfg(not(any(feature = "otlp-http", feature = "otlp-grpc")))]
pub(crate) fn attach_otlp(
    _: opentelemetry_sdk::metrics::MeterProviderBuilder,
    settings: &crate::config::OtlpSettings,
) -> Result<
    (
        opentelemetry_sdk::metrics::MeterProviderBuilder,
        OtlpResources,
    ),
    crate::InitError,
> {
    Err(crate::InitError::Otlp {
        endpoint: settings.endpoint.clone(),
        reason: "mcp-gateway-metrics was built without the otlp-http and otlp-grpc features".into(),
    })
}
