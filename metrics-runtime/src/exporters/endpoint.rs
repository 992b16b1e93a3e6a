//! The embedded `/metrics` endpoint: hyper (HTTP/1.1) on a one-thread tokio runtime that the
//! endpoint owns, independent of any runtime the application uses. It survives its clients:
//!
//! - each connection is a task of its own, so a slow client delays only itself;
//! - a client must send its request headers within [`HEADER_TIMEOUT`] (slowloris), and a
//!   connection lives at most [`CONNECTION_DEADLINE`], keep-alive included (a client that
//!   never reads its responses);
//! - at most [`MAX_CONNECTIONS`] are served at once; further ones wait in the listen backlog;
//! - an `accept` that fails (file descriptors exhausted, ...) is reported, rate-limited, and
//!   retried after [`ACCEPT_BACKOFF`]: the endpoint recovers by itself when descriptors free up.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{oneshot, Semaphore};

use super::prometheus::{render_pipeline, CONTENT_TYPE};
use crate::diagnostics::RateLimited;
use crate::error::InitError;
use crate::pipeline::Pipeline;

/// How long a client may take to send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a connection is kept, however busy.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// The pause after a failed `accept`.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

static ACCEPT_FAILED: RateLimited = RateLimited::new(Duration::from_secs(10));

/// A running endpoint; stops (closing its listener and connections) when dropped.
pub(crate) struct Endpoint {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Endpoint {
    /// Listens on `address` now (so a port in use fails `init()`), then serves on a thread.
    pub(crate) fn serve(address: SocketAddr, pipeline: Arc<Pipeline>) -> Result<Self, InitError> {
        let fail = |reason: String| InitError::PrometheusListen {
            address: address.to_string(),
            reason,
        };
        let listener = std::net::TcpListener::bind(address).map_err(|e| fail(e.to_string()))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| fail(e.to_string()))?;
        let bound = listener.local_addr().map_err(|e| fail(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the endpoint's runtime: {e}")))?;
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("mcp-metrics-endpoint".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => accept_loop(listener, pipeline, stopped).await,
                        Err(e) => tracing::warn!(
                            target: "mcp_gateway_metrics",
                            "the /metrics endpoint cannot serve: {e}"
                        ),
                    }
                });
                // Dropping the runtime here drops every connection still open.
            })
            .map_err(|e| fail(format!("cannot start the server thread: {e}")))?;
        Ok(Endpoint {
            address: bound,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    pipeline: Arc<Pipeline>,
    mut stopped: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let slot = tokio::select! {
            _ = &mut stopped => return,
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                let pipeline = Arc::clone(&pipeline);
                tokio::spawn(async move {
                    let _slot = slot;
                    serve_connection(stream, pipeline).await;
                });
            }
            Err(e) => {
                ACCEPT_FAILED.warn(|| {
                    format!(
                        "the /metrics endpoint cannot accept a connection ({e}); retrying in \
                         {ACCEPT_BACKOFF:?}"
                    )
                });
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, pipeline: Arc<Pipeline>) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let response = respond(&request, &pipeline);
        async move { Ok::<_, Infallible>(response) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    // A client that never reads its responses (or never stops asking) is cut off here.
    let _ = tokio::time::timeout(CONNECTION_DEADLINE, connection).await;
}

fn respond(request: &Request<Incoming>, pipeline: &Pipeline) -> Response<Full<Bytes>> {
    let text = |status: StatusCode, content_type: &'static str, body: String| {
        Response::builder()
            .status(status)
            .header(hyper::header::CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .expect("static status and header values are valid")
    };
    let plain = "text/plain; charset=utf-8";
    match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            text(StatusCode::OK, CONTENT_TYPE, render_pipeline(pipeline))
        }
        (&Method::GET | &Method::HEAD, "/") => text(
            StatusCode::OK,
            plain,
            "mcp-gateway-metrics: the Prometheus exposition is at /metrics\n".into(),
        ),
        (&Method::GET | &Method::HEAD, _) => text(
            StatusCode::NOT_FOUND,
            plain,
            "not found: the metrics are at /metrics\n".into(),
        ),
        _ => text(
            StatusCode::METHOD_NOT_ALLOWED,
            plain,
            "method not allowed: use GET /metrics\n".into(),
        ),
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("address", &self.address)
            .finish()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
