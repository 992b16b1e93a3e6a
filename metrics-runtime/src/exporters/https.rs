//! The OTLP/HTTP client for `https://` endpoints (features `otlp-http` + `otlp-tls`): a
//! blocking ureq agent over rustls, run on the SDK's periodic reader thread like the
//! exporter's own blocking client.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use opentelemetry_http::{HttpClient, HttpError};

/// The largest response body read (the OTLP response is a few bytes).
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

#[derive(Debug)]
pub(crate) struct HttpsClient(ureq::Agent);

impl HttpsClient {
    pub(crate) fn new(ca_pem: Option<&[u8]>, timeout: Duration) -> Result<Self, String> {
        let agent = ureq::Agent::config_builder()
            .tls_config(super::tls::ureq_config(ca_pem)?)
            .timeout_global(Some(timeout))
            // Status codes are the exporter's to judge, as with its own client.
            .http_status_as_error(false)
            .build()
            .new_agent();
        Ok(HttpsClient(agent))
    }

    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let response = self.0.run(Request::from_parts(parts, body.to_vec()))?;
        let (parts, body) = response.into_parts();
        let body = body.into_with_config().limit(MAX_RESPONSE).read_to_vec()?;
        Ok(Response::from_parts(parts, Bytes::from(body)))
    }
}

impl HttpClient for HttpsClient {
    fn send_bytes<'a, 'async_trait>(
        &'a self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'a: 'async_trait,
        Self: 'async_trait,
    {
        // Blocking, like the exporter's reqwest blocking client: the periodic reader calls
        // it from its own thread.
        let result = self.send(request);
        Box::pin(std::future::ready(result))
    }
}
