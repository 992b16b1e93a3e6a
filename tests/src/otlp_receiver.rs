//! A minimal OTLP/HTTP metrics receiver: accepts `POST /v1/metrics` with a protobuf body,
//! decodes it with the official OTLP protobuf definitions and keeps it for assertions.

use std::collections::HashMap;
use std::io::Read as _;
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

/// Exports as they arrive, for waiting on.
#[derive(Clone, Default)]
pub struct Exports(Arc<(Mutex<Vec<Export>>, Condvar)>);

impl Exports {
    fn push(&self, export: Export) {
        let (list, ready) = &*self.0;
        list.lock().unwrap().push(export);
        ready.notify_all();
    }

    /// Waits until `pred` holds for the exports received so far, up to `timeout`.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&[Export]) -> bool) -> Vec<Export> {
        let deadline = Instant::now() + timeout;
        let (list, ready) = &*self.0;
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

    /// Decodes one OTLP/HTTP request (gzip-compressed or not) and keeps it; the status to answer.
    fn receive(&self, path: &str, headers: HashMap<String, String>, body: &[u8]) -> u16 {
        let body = match headers.get("content-encoding").map(String::as_str) {
            Some("gzip") => {
                let mut plain = Vec::new();
                match flate2::read::GzDecoder::new(body).read_to_end(&mut plain) {
                    Ok(_) => plain,
                    Err(_) => return 400,
                }
            }
            _ => body.to_vec(),
        };
        match ExportMetricsServiceRequest::decode(body.as_slice()) {
            Ok(request) => {
                self.push(Export {
                    path: path.to_owned(),
                    headers,
                    request,
                });
                200
            }
            Err(_) => 400,
        }
    }
}

/// The receiver; stops when dropped.
pub struct Receiver {
    server: Arc<tiny_http::Server>,
    exports: Exports,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Listens on a free loopback port.
    pub fn start() -> Receiver {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let exports = Exports::default();
        let thread = std::thread::spawn({
            let (server, exports) = (Arc::clone(&server), exports.clone());
            move || {
                for mut request in server.incoming_requests() {
                    let mut body = Vec::new();
                    let _ = request.as_reader().read_to_end(&mut body);
                    let headers = request
                        .headers()
                        .iter()
                        .map(|h| {
                            (
                                h.field.as_str().as_str().to_ascii_lowercase(),
                                h.value.as_str().to_owned(),
                            )
                        })
                        .collect();
                    let status = exports.receive(request.url(), headers, &body);
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
        self.exports.wait_for(timeout, pred)
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

/// OTLP receivers behind TLS, with a certificate from a throwaway CA.
pub mod tls {
    use std::collections::HashMap;
    use std::net::SocketAddr;
    use std::sync::Arc;

    use http_body_util::{BodyExt as _, Full};
    use hyper::body::{Bytes, Incoming};
    use prost::Message as _;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls;

    use super::{ExportMetricsServiceResponse, Exports};

    /// A CA and a server certificate it signed for `localhost` and `127.0.0.1`.
    pub struct TestPki {
        /// The CA certificate, PEM: what a client must trust.
        pub ca_pem: String,
        /// The server's certificate, PEM.
        pub server_cert_pem: String,
        /// The server's private key, PEM.
        pub server_key_pem: String,
    }

    impl TestPki {
        pub fn new() -> TestPki {
            let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
            ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let ca_key = KeyPair::generate().unwrap();
            let ca_cert = ca_params.self_signed(&ca_key).unwrap();
            let issuer = Issuer::new(ca_params, ca_key);
            let server_key = KeyPair::generate().unwrap();
            let server_cert =
                CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                    .unwrap()
                    .signed_by(&server_key, &issuer)
                    .unwrap();
            TestPki {
                ca_pem: ca_cert.pem(),
                server_cert_pem: server_cert.pem(),
                server_key_pem: server_key.serialize_pem(),
            }
        }

        /// Writes the CA certificate to a file (what OTEL_EXPORTER_OTLP_CERTIFICATE names).
        pub fn write_ca(&self, dir: &std::path::Path) -> std::path::PathBuf {
            let path = dir.join("ca.pem");
            std::fs::write(&path, &self.ca_pem).unwrap();
            path
        }

        fn server_config(&self) -> rustls::ServerConfig {
            use rustls::pki_types::pem::PemObject as _;
            use rustls::pki_types::{CertificateDer, PrivateKeyDer};
            let certs =
                vec![CertificateDer::from_pem_slice(self.server_cert_pem.as_bytes()).unwrap()];
            let key = PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes()).unwrap();
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap()
        }
    }

    impl Default for TestPki {
        fn default() -> Self {
            Self::new()
        }
    }

    /// An OTLP/HTTP receiver over TLS (hyper on a runtime of its own); stops when dropped.
    pub struct HttpsReceiver {
        pub exports: Exports,
        /// TLS handshakes that failed (a client that did not trust the certificate).
        pub failed_handshakes: Arc<std::sync::atomic::AtomicUsize>,
        address: SocketAddr,
        _runtime: tokio::runtime::Runtime,
    }

    impl HttpsReceiver {
        pub fn start(pki: &TestPki) -> HttpsReceiver {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(pki.server_config()));
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            let address = listener.local_addr().unwrap();
            let exports = Exports::default();
            let failed_handshakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            runtime.spawn({
                let (exports, failed) = (exports.clone(), Arc::clone(&failed_handshakes));
                async move {
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else {
                            continue;
                        };
                        let (acceptor, exports, failed) =
                            (acceptor.clone(), exports.clone(), Arc::clone(&failed));
                        tokio::spawn(async move {
                            let Ok(tls) = acceptor.accept(tcp).await else {
                                failed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                return;
                            };
                            let service = hyper::service::service_fn(move |request| {
                                let exports = exports.clone();
                                async move { Ok::<_, hyper::Error>(handle(&exports, request).await) }
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                                .await;
                        });
                    }
                }
            });
            HttpsReceiver {
                exports,
                failed_handshakes,
                address,
                _runtime: runtime,
            }
        }

        /// `https://localhost:PORT` (the certificate names localhost).
        pub fn url(&self) -> String {
            format!("https://localhost:{}", self.address.port())
        }
    }

    async fn handle(
        exports: &Exports,
        request: hyper::Request<Incoming>,
    ) -> hyper::Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        let headers: HashMap<String, String> = request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = match request.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => Bytes::new(),
        };
        let status = exports.receive(&path, headers, &body);
        hyper::Response::builder()
            .status(status)
            .header("content-type", "application/x-protobuf")
            .body(Full::new(Bytes::from(
                ExportMetricsServiceResponse::default().encode_to_vec(),
            )))
            .unwrap()
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
        serve(tonic::transport::Server::builder()).await
    }

    /// Like [`start`], over TLS with the server certificate of `pki`.
    pub async fn start_tls(
        pki: &super::tls::TestPki,
    ) -> (
        SocketAddr,
        mpsc::UnboundedReceiver<ExportMetricsServiceRequest>,
    ) {
        let identity =
            tonic::transport::Identity::from_pem(&pki.server_cert_pem, &pki.server_key_pem);
        let server = tonic::transport::Server::builder()
            .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
            .unwrap();
        serve(server).await
    }

    async fn serve(
        mut server: tonic::transport::Server,
    ) -> (
        SocketAddr,
        mpsc::UnboundedReceiver<ExportMetricsServiceRequest>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(
            server
                .add_service(MetricsServiceServer::new(Service(tx)))
                .serve_with_incoming(incoming),
        );
        (addr, rx)
    }
}

/// The total of `enkrypt_cache_hits_total` (all cache types) in one export.
pub fn cache_hits(request: &ExportMetricsServiceRequest) -> i64 {
    sum(request, "enkrypt_cache_hits_total", &[])
}

/// The sum of the integer points of the counter or up-down counter `name` whose attributes
/// include `labels`, in one export (0 when there are none).
pub fn sum(request: &ExportMetricsServiceRequest, name: &str, labels: &[(&str, &str)]) -> i64 {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
    let has = |attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue],
               (k, v): &(&str, &str)| {
        attrs.iter().any(|kv| {
            kv.key == *k
                && matches!(kv.value.as_ref().and_then(|a| a.value.as_ref()),
                            Some(Any::StringValue(s)) if s == v)
        })
    };
    request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .filter(|m| m.name == name)
        .filter_map(|m| match &m.data {
            Some(Data::Sum(sum)) => Some(&sum.data_points),
            _ => None,
        })
        .flatten()
        .filter(|dp| labels.iter().all(|l| has(&dp.attributes, l)))
        .map(|dp| match dp.value {
            Some(Value::AsInt(v)) => v,
            _ => 0,
        })
        .sum()
}
