//! TLS for OTLP push (feature `otlp-tls`): rustls with the `ring` provider, trusting the
//! system's root certificates plus the CA certificate given by `otlp_certificate` /
//! `OTEL_EXPORTER_OTLP_CERTIFICATE` (for a private CA or a self-signed collector).
//!
//! OTLP/HTTP uses a client of its own (ureq) rather than switching a TLS backend on in
//! reqwest, which would change every other reqwest client of the application.

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;

/// The certificates of a PEM file, or why there are none.
pub(crate) fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file ({e})"))?;
    if certs.is_empty() {
        return Err("the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

/// The roots an OTLP client trusts: the system's, plus `ca_pem`'s.
fn trusted(ca_pem: Option<&[u8]>) -> Result<Vec<CertificateDer<'static>>, String> {
    // An unreadable system store is not fatal: the given CA may be all that is needed.
    let mut roots = rustls_native_certs::load_native_certs().certs;
    if let Some(pem) = ca_pem {
        roots.extend(pem_certificates(pem)?);
    }
    if roots.is_empty() {
        return Err(
            "no CA certificate to trust: the system has none; give one with \
                    otlp_certificate / OTEL_EXPORTER_OTLP_CERTIFICATE"
                .into(),
        );
    }
    Ok(roots)
}

/// The TLS configuration of the OTLP/HTTP client.
#[cfg(feature = "otlp-http")]
pub(crate) fn ureq_config(ca_pem: Option<&[u8]>) -> Result<ureq::tls::TlsConfig, String> {
    let roots: Vec<ureq::tls::Certificate<'static>> = trusted(ca_pem)?
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
        .collect();
    Ok(ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::new_with_certs(&roots))
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .build())
}

/// The tonic TLS configuration of OTLP/gRPC.
#[cfg(feature = "otlp-grpc")]
pub(crate) fn tonic_config(
    ca_pem: Option<&[u8]>,
) -> Result<tonic::transport::ClientTlsConfig, String> {
    let mut config = tonic::transport::ClientTlsConfig::new().with_native_roots();
    if let Some(pem) = ca_pem {
        pem_certificates(pem)?;
        config = config.ca_certificate(tonic::transport::Certificate::from_pem(pem));
    } else {
        // Fails early, with the same message as HTTP, when nothing would be trusted.
        trusted(None)?;
    }
    Ok(config)
}
