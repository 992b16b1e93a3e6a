//! A client that closes its connection in the middle of a tool call cancels the call, as a
//! `notifications/cancelled` would: rmcp's streamable HTTP server keeps a session's request
//! running when the response stream it was answering on goes away, so the gateway watches
//! that stream and, when it is dropped before its end, cancels the request in its session.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use serde_json::{json, Value};

/// The JSON-RPC id of a `tools/call` request, put into the request's extensions by the body
/// check.
#[derive(Debug, Clone)]
pub struct ToolsCallId(pub Value);

/// What [`cancel_on_disconnect`] sends requests to: the MCP service itself.
pub type Mcp = rmcp::transport::streamable_http_server::StreamableHttpService<
    super::server::GatewayServer,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
>;

/// Watches the response of each `tools/call` made in a session.
pub async fn cancel_on_disconnect(
    axum::extract::State(mcp): axum::extract::State<Mcp>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = request.extensions().get::<ToolsCallId>().cloned();
    let in_session = request.headers().contains_key("mcp-session-id");
    let (Some(ToolsCallId(id)), true) = (id, in_session) else {
        return next.run(request).await;
    };
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let watched = Watched {
        inner: body,
        on_disconnect: Some(Box::new(move || {
            tokio::spawn(cancel(mcp, headers, id));
        })),
    };
    axum::response::Response::from_parts(parts, Body::new(watched))
}

/// Tells the session that the request `id` is cancelled, as its client would have.
async fn cancel(mut mcp: Mcp, headers: http::HeaderMap, id: Value) {
    use tower_service::Service;
    let notification = json!({
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": { "requestId": id, "reason": "the client closed its connection" },
    });
    let mut request = http::Request::post("/")
        .body(Body::from(notification.to_string()))
        .expect("a valid request");
    for name in ["host", "mcp-session-id", "mcp-protocol-version"] {
        if let Some(value) = headers.get(name) {
            request.headers_mut().insert(name, value.clone());
        }
    }
    let fixed = [
        (http::header::CONTENT_TYPE, "application/json"),
        (http::header::ACCEPT, "application/json, text/event-stream"),
    ];
    for (name, value) in fixed {
        request
            .headers_mut()
            .insert(name, http::HeaderValue::from_static(value));
    }
    let _ = mcp.call(request).await;
}

/// A response body that reports being dropped before its end.
struct Watched {
    inner: Body,
    on_disconnect: Option<Box<dyn FnOnce() + Send>>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            // The whole answer went out.
            self.on_disconnect = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(disconnected) = self.on_disconnect.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                disconnected();
            }
        }
    }
}
