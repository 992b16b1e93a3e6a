//! The standard OpenTelemetry variables mean what the OpenTelemetry specification says.

use std::net::SocketAddr;

use mcp_gateway_metrics::{Config, ConfigBuilder, OtlpCompression, OtlpProtocol};

use tests::config_with_env as with_env;

fn otlp_endpoint(vars: &[(&str, &str)]) -> String {
    let config = with_env(Config::builder(), vars).unwrap();
    config.otlp().expect("OTLP is on").endpoint.clone()
}

fn served_on(vars: &[(&str, &str)]) -> SocketAddr {
    with_env(Config::builder(), vars)
        .unwrap()
        .prometheus()
        .and_then(|p| p.serve_on)
        .expect("the endpoint is served")
}

fn refused(builder: ConfigBuilder, vars: &[(&str, &str)]) -> String {
    with_env(builder, vars)
        .expect_err("the configuration should be refused")
        .to_string()
}

#[test]
fn the_base_endpoint_gets_the_signal_path_and_the_signal_endpoint_is_verbatim() {
    let otlp = ("OTEL_METRICS_EXPORTER", "otlp");
    assert_eq!(
        otlp_endpoint(&[
            otlp,
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/otlp")
        ]),
        "http://collector:4318/otlp/v1/metrics"
    );
    assert_eq!(
        otlp_endpoint(&[
            otlp,
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
        ]),
        "http://collector:4318/v1/metrics"
    );
    assert_eq!(
        otlp_endpoint(&[
            otlp,
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://collector:4318/custom/path"
            ),
        ]),
        "http://collector:4318/custom/path"
    );
    assert_eq!(otlp_endpoint(&[otlp]), "http://localhost:4318/v1/metrics");
    // gRPC has no per-signal path.
    assert_eq!(
        otlp_endpoint(&[
            otlp,
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        ]),
        "http://collector:4317"
    );
}

#[test]
fn sdk_disabled_turns_every_exporter_off() {
    let config = with_env(
        Config::builder(),
        &[
            ("OTEL_SDK_DISABLED", "TRUE"),
            ("OTEL_METRICS_EXPORTER", "prometheus,otlp"),
        ],
    )
    .unwrap();
    assert!(config.is_disabled());
    assert!(config.prometheus().is_none());
    assert!(config.otlp().is_none());
    // Anything but true is false.
    for value in ["false", "1", "yes"] {
        let config = with_env(Config::builder(), &[("OTEL_SDK_DISABLED", value)]).unwrap();
        assert!(!config.is_disabled(), "{value}");
        assert!(config.prometheus().is_some(), "{value}");
    }
    // The builder wins over the environment.
    let config = with_env(
        Config::builder().disabled(false),
        &[("OTEL_SDK_DISABLED", "true")],
    );
    assert!(!config.unwrap().is_disabled());
}

#[test]
fn the_prometheus_host_and_port_variables_are_honoured() {
    assert_eq!(served_on(&[]), "127.0.0.1:9464".parse().unwrap());
    assert_eq!(
        served_on(&[("OTEL_EXPORTER_PROMETHEUS_PORT", "9999")]),
        "127.0.0.1:9999".parse().unwrap()
    );
    assert_eq!(
        served_on(&[("OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0")]),
        "0.0.0.0:9464".parse().unwrap()
    );
    assert_eq!(
        served_on(&[
            ("OTEL_EXPORTER_PROMETHEUS_HOST", "::1"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", "1")
        ]),
        "[::1]:1".parse().unwrap()
    );
    let named = served_on(&[("OTEL_EXPORTER_PROMETHEUS_HOST", "localhost")]);
    assert!(named.ip().is_loopback() && named.port() == 9464, "{named}");
    // This crate's own variable, then the builder, take precedence.
    assert_eq!(
        served_on(&[
            ("OTEL_EXPORTER_PROMETHEUS_PORT", "9999"),
            ("MCP_METRICS_PROMETHEUS_ADDRESS", "127.0.0.1:7000"),
        ]),
        "127.0.0.1:7000".parse().unwrap()
    );
    let message = refused(
        Config::builder(),
        &[("OTEL_EXPORTER_PROMETHEUS_PORT", "http")],
    );
    assert!(
        message.contains("OTEL_EXPORTER_PROMETHEUS_PORT") && message.contains("\"http\""),
        "{message}"
    );
    let message = refused(
        Config::builder(),
        &[("OTEL_EXPORTER_PROMETHEUS_HOST", "no-such-host.invalid")],
    );
    assert!(
        message.contains("OTEL_EXPORTER_PROMETHEUS_HOST") && message.contains("resolve"),
        "{message}"
    );
}

#[test]
fn compression_headers_and_timeouts_follow_the_variables() {
    let otlp = Config::builder().otlp(OtlpProtocol::HttpProtobuf);
    let config = with_env(
        otlp.clone(),
        &[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "2500"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20abc,x-tenant=t1",
            ),
        ],
    )
    .unwrap();
    let settings = config.otlp().unwrap();
    assert_eq!(settings.compression, OtlpCompression::Gzip);
    assert_eq!(settings.timeout, std::time::Duration::from_millis(2500));
    assert_eq!(
        settings.headers,
        vec![
            ("authorization".to_string(), "Bearer abc".to_string()),
            ("x-tenant".to_string(), "t1".to_string())
        ]
    );
    let config = with_env(
        otlp.clone(),
        &[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none"),
        ],
    )
    .unwrap();
    assert_eq!(config.otlp().unwrap().compression, OtlpCompression::None);

    let message = refused(
        otlp.clone(),
        &[(
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "lowmemory",
        )],
    );
    assert!(
        message.contains("TEMPORALITY_PREFERENCE") && message.contains("lowmemory"),
        "{message}"
    );
    let message = refused(otlp.clone(), &[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")]);
    assert!(
        message.contains("OTEL_EXPORTER_OTLP_COMPRESSION") && message.contains("gzip"),
        "{message}"
    );
    // The exporter would drop these silently; here they are refused, naming the setting.
    let message = refused(otlp.clone(), &[("OTEL_EXPORTER_OTLP_HEADERS", "bad key=1")]);
    assert!(
        message.contains("OTEL_EXPORTER_OTLP_HEADERS") && message.contains("bad key"),
        "{message}"
    );
    let message = refused(otlp.clone().otlp_header("x-name", "caf\u{e9}"), &[]);
    assert!(
        message.contains("otlp_header") && message.contains("x-name"),
        "{message}"
    );
    let message = refused(otlp, &[("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/etc/key.pem")]);
    assert!(
        message.contains("OTEL_EXPORTER_OTLP_CLIENT_KEY") && message.contains("mutual TLS"),
        "{message}"
    );
}
