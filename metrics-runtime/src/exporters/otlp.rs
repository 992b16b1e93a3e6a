//! Periodic OTLP push.
//!
//! An `https://` endpoint is reached over TLS (feature `otlp-tls`): rustls with ring,
//! trusting the system's roots and the configured CA certificate.
//!
//! Both transports run under the SDK's `PeriodicReader`, which exports from its own thread:
//! - HTTP uses the blocking `reqwest` client, which is safe on that thread (an async client
//!   would need a runtime the reader does not have).
//! - gRPC (tonic) needs a tokio reactor. The runtime owns a one-worker tokio runtime for it,
//!   builds the channel inside it, and keeps it until the guard is dropped, so the export
//!   works whether or not the application uses tokio.

use opentelemetry_otlp::{MetricExporter, WithExportConfig as _};
use opentelemetry_sdk::metrics::{MeterProviderBuilder, PeriodicReader};

use crate::config::{OtlpCompression, OtlpProtocol, OtlpSettings, Temporality};
use crate::error::InitError;

/// What must outlive the exporter (the gRPC transport's runtime).
#[derive(Debug, Default)]
pub(crate) struct OtlpResources {
    #[cfg(feature = "otlp-grpc")]
    runtime: Option<tokio::runtime::Runtime>,
}

impl OtlpResources {
    /// Drops the runtime off any async thread (dropping a runtime inside another one panics).
    pub(crate) fn shutdown(self) {
        #[cfg(feature = "otlp-grpc")]
        if let Some(rt) = self.runtime {
            rt.shutdown_background();
        }
    }
}

pub(crate) fn attach(
    builder: MeterProviderBuilder,
    settings: &OtlpSettings,
) -> Result<(MeterProviderBuilder, OtlpResources), InitError> {
    let fail = |reason: String| InitError::Otlp {
        endpoint: settings.endpoint.clone(),
        reason,
    };
    let temporality = match settings.temporality {
        Temporality::Cumulative => opentelemetry_sdk::metrics::Temporality::Cumulative,
        Temporality::Delta => opentelemetry_sdk::metrics::Temporality::Delta,
    };
    let mut resources = OtlpResources::default();
    let exporter = match settings.protocol {
        OtlpProtocol::HttpProtobuf => http_exporter(settings, temporality).map_err(fail)?,
        OtlpProtocol::Grpc => grpc_exporter(settings, temporality, &mut resources).map_err(fail)?,
    };
    let reader = PeriodicReader::builder(exporter)
        .with_interval(settings.interval)
        .build();
    Ok((builder.with_reader(reader), resources))
}

fn compression(settings: &OtlpSettings) -> Option<opentelemetry_otlp::Compression> {
    match settings.compression {
        OtlpCompression::None => None,
        OtlpCompression::Gzip => Some(opentelemetry_otlp::Compression::Gzip),
    }
}

#[cfg(feature = "otlp-tls")]
fn uses_tls(settings: &OtlpSettings) -> bool {
    settings.endpoint.starts_with("https://")
}

#[cfg(feature = "otlp-http")]
fn http_exporter(
    settings: &OtlpSettings,
    temporality: opentelemetry_sdk::metrics::Temporality,
) -> Result<MetricExporter, String> {
    use opentelemetry_otlp::WithHttpConfig as _;
    let headers: std::collections::HashMap<String, String> =
        settings.headers.iter().cloned().collect();
    let mut builder = MetricExporter::builder()
        .with_http()
        .with_endpoint(settings.endpoint.clone())
        .with_headers(headers)
        .with_timeout(settings.timeout)
        .with_temporality(temporality);
    if let Some(c) = compression(settings) {
        builder = builder.with_compression(c);
    }
    // Configuration refuses https endpoints without `otlp-tls`.
    #[cfg(feature = "otlp-tls")]
    if uses_tls(settings) {
        builder = builder.with_http_client(https_client(settings)?);
    }
    builder.build().map_err(|e| e.to_string())
}

#[cfg(all(feature = "otlp-http", feature = "otlp-tls"))]
fn https_client(settings: &OtlpSettings) -> Result<super::https::HttpsClient, String> {
    super::https::HttpsClient::new(settings.certificate.as_deref(), settings.timeout)
}

#[cfg(not(feature = "otlp-http"))]
fn http_exporter(
    _: &OtlpSettings,
    _: opentelemetry_sdk::metrics::Temporality,
) -> Result<MetricExporter, String> {
    Err("built without the `otlp-http` feature".into())
}

#[cfg(feature = "otlp-grpc")]
fn grpc_exporter(
    settings: &OtlpSettings,
    temporality: opentelemetry_sdk::metrics::Temporality,
    resources: &mut OtlpResources,
) -> Result<MetricExporter, String> {
    use opentelemetry_otlp::WithTonicConfig as _;
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (k, v) in &settings.headers {
        let key = tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
            .map_err(|_| format!("header name {k:?} is not a valid gRPC metadata key"))?;
        let value = v
            .parse()
            .map_err(|_| format!("header {k:?} has a value that is not valid gRPC metadata"))?;
        metadata.insert(key, value);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("metrics-otlp-grpc")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the gRPC runtime: {e}"))?;
    let mut builder = MetricExporter::builder()
        .with_tonic()
        .with_endpoint(settings.endpoint.clone())
        .with_metadata(metadata)
        .with_timeout(settings.timeout)
        .with_temporality(temporality);
    if let Some(c) = compression(settings) {
        builder = builder.with_compression(c);
    }
    #[cfg(feature = "otlp-tls")]
    if uses_tls(settings) {
        builder =
            builder.with_tls_config(super::tls::tonic_config(settings.certificate.as_deref())?);
    }
    let exporter = {
        let _inside = runtime.enter();
        builder.build().map_err(|e| e.to_string())?
    };
    resources.runtime = Some(runtime);
    Ok(exporter)
}

#[cfg(not(feature = "otlp-grpc"))]
fn grpc_exporter(
    _: &OtlpSettings,
    _: opentelemetry_sdk::metrics::Temporality,
    _: &mut OtlpResources,
) -> Result<MetricExporter, String> {
    Err("built without the `otlp-grpc` feature".into())
}
