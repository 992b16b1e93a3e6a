//! A minimal OTLP/HTTP metrics receiver: accepts `POST /v1/metrics` with a protobuf body,
//! decodes it with the official OTLP protobuf definitions and keeps it for assertions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use prost::Message;

/// One export as received.
#[derive(Debug, Clone)]
pub struct Export {
    /// The request path.
    pub path: String,
    /// Request headers, names lower-cased.
    pub headers: HashMap<String, String>,
    /// The decoded body.
    pub request: ExportMetricsServiceRequest,
}

/// The receiver; stops when dropped.
pub struct Receiver {
    server: Arc<tiny_http::Server>,
    exports: Arc<(Mutex<Vec<Export>>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Listens on a free loopback port.
    pub fn start() -> Receiver {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let exports: Arc<(Mutex<Vec<Export>>, Condvar)> = Arc::default();
        let thread = std::thread::spawn({
            let (server, exports) = (Arc::clone(&server), Arc::clone(&exports));
            move || {
                for mut request in server.incoming_requests() {
                    let mut body = Vec::new();
                    let _ = request.as_reader().read_to_end(&mut body);
                    let decoded = ExportMetricsServiceRequest::decode(body.as_slice());
                    let status = match decoded {
                        Ok(decoded) => {
                            let export = Export {
                                path: request.url().to_owned(),
                                headers: request
                                    .headers()
                                    .iter()
                                    .map(|h| {
                                        (
                                            h.field.as_str().as_str().to_ascii_lowercase(),
                                            h.value.as_str().to_owned(),
                                        )
                                    })
                                    .collect(),
                                request: decoded,
                            };
                            let (list, ready) = &*exports;
                            list.lock().unwrap().push(export);
                            ready.notify_all();
                            200
                        }
                        Err(_) => 400,
                    };
                    let body = ExportMetricsServiceResponse::default().encode_to_vec();
                    let response = tiny_http::Response::from_data(body)
                        .with_status_code(status)
                        .with_header(
                            tiny_http::Header::from_bytes("Content-Type", "application/x-protobuf")
                                .unwrap(),
                        );
                    let _ = request.respond(response);
                }
            }
        });
        Receiver {
            server,
            exports,
            thread: Some(thread),
        }
    }

    /// The receiver's base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        let addr: SocketAddr = self.server.server_addr().to_ip().expect("ip listener");
        format!("http://{addr}")
    }

    /// Waits until `pred` holds for the exports received so far, up to `timeout`.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&[Export]) -> bool) -> Vec<Export> {
        let deadline = Instant::now() + timeout;
        let (list, ready) = &*self.exports;
        let mut exports = list.lock().unwrap();
        while !pred(&exports) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            exports = ready.wait_timeout(exports, left).unwrap().0;
        }
        exports.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A minimal OTLP/gRPC metrics receiver on the official service definition.
pub mod grpc {
    use std::net::SocketAddr;

    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
        MetricsService, MetricsServiceServer,
    };
    use opentelemetry_proto::tonic::collector::metrics::v1::{
        ExportMetricsServiceRequest, ExportMetricsServiceResponse,
    };
    use tokio::sync::mpsc;

    struct Service(mpsc::UnboundedSender<ExportMetricsServiceRequest>);

    #[tonic::async_trait]
    impl MetricsService for Service {
        async fn export(
            &self,
            request: tonic::Request<ExportMetricsServiceRequest>,
        ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
            let _ = self.0.send(request.into_inner());
            Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
        }
    }

    /// Serves on a free loopback port of the current tokio runtime; exports arrive on the
    /// returned channel.
    pub async fn start() -> (
        SocketAddr,
        mpsc::UnboundedReceiver<ExportMetricsServiceRequest>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(MetricsServiceServer::new(Service(tx)))
                .serve_with_incoming(incoming),
        );
        (addr, rx)
    }
}
