//! Bad configuration fails at startup with a message naming the setting and the value.

use std::time::Duration;

use mcp_gateway_metrics::catalog::Metric;
use std::collections::HashMap;

use mcp_gateway_metrics::{Config, ConfigError, OperationType, OtlpProtocol};

use tests::config_with_env as with_env;

/// Asserts the error names every one of `parts` (the setting, the value, the fix).
fn assert_names(result: Result<Config, ConfigError>, parts: &[&str]) {
    let message = result
        .expect_err("the configuration should be refused")
        .to_string();
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}

#[test]
fn an_unparsable_endpoint_names_the_setting_and_the_value() {
    let otlp = || Config::builder().otlp(OtlpProtocol::HttpProtobuf);
    assert_names(
        with_env(otlp().otlp_endpoint("localhost:4318"), &[]),
        &["otlp_endpoint", "localhost:4318", "http://"],
    );
    assert_names(
        with_env(
            otlp(),
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:43l8")],
        ),
        &[
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://collector:43l8",
            "port",
        ],
    );
    assert_names(
        with_env(
            Config::builder(),
            &[
                ("OTEL_METRICS_EXPORTER", "otlp"),
                ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://"),
            ],
        ),
        &["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "\"http://\"", "host"],
    );
    assert_names(
        with_env(
            otlp().otlp_endpoint("https://collector.example.com"),
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")],
        ),
        &[
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "/nonexistent/ca.pem",
            "cannot read",
        ],
    );
    let not_pem = std::env::temp_dir().join(format!("not-a-ca-{}.pem", std::process::id()));
    std::fs::write(&not_pem, "hello").unwrap();
    assert_names(
        with_env(otlp().otlp_certificate(&not_pem), &[]),
        &["otlp_certificate", "no PEM certificate"],
    );
    std::fs::remove_file(&not_pem).unwrap();
    assert_names(
        with_env(Config::builder().prometheus_address("localhost:http"), &[]),
        &[
            "prometheus_address",
            "MCP_METRICS_PROMETHEUS_ADDRESS",
            "localhost:http",
        ],
    );
    assert_names(
        with_env(
            Config::builder(),
            &[("MCP_METRICS_PROMETHEUS_ADDRESS", "127.0.0.1:99999")],
        ),
        &["MCP_METRICS_PROMETHEUS_ADDRESS", "127.0.0.1:99999"],
    );
}

#[test]
fn an_invalid_bucket_list_names_the_metric_and_the_bounds() {
    assert_names(
        with_env(
            Config::builder().buckets(Metric::ToolCallDuration, [1.0, 0.5]),
            &[],
        ),
        &[
            "buckets",
            "enkrypt_tool_call_duration_seconds",
            "strictly increasing",
        ],
    );
    assert_names(
        with_env(Config::builder().buckets(Metric::ToolCallDuration, []), &[]),
        &["buckets", "at least one"],
    );
    assert_names(
        with_env(Config::builder().buckets(Metric::ToolCalls, [1.0]), &[]),
        &["buckets", "enkrypt_tool_calls_total", "not a histogram"],
    );
    assert_names(
        with_env(
            Config::builder(),
            &[(
                "MCP_METRICS_BUCKETS",
                "enkrypt_api_request_duration_seconds=0.1,fast,1",
            )],
        ),
        &["MCP_METRICS_BUCKETS", "fast"],
    );
    assert_names(
        with_env(
            Config::builder(),
            &[("MCP_METRICS_BUCKETS", "enkrypt_tool_call_seconds=1")],
        ),
        &[
            "MCP_METRICS_BUCKETS",
            "no metric is named \"enkrypt_tool_call_seconds\"",
        ],
    );
    // A valid list from the environment is applied.
    let config = with_env(
        Config::builder(),
        &[(
            "MCP_METRICS_BUCKETS",
            "enkrypt_api_request_duration_seconds=0.01,0.1,1",
        )],
    )
    .unwrap();
    assert_eq!(
        config.buckets_of(Metric::ApiRequestDuration),
        &[0.01, 0.1, 1.0]
    );
    assert_eq!(
        config.buckets_of(Metric::ToolCallDuration),
        &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0]
    );
}

#[test]
fn other_bad_values_are_refused_with_their_name() {
    assert_names(
        with_env(
            Config::builder(),
            &[("OTEL_METRICS_EXPORTER", "prometheus,statsd")],
        ),
        &["OTEL_METRICS_EXPORTER", "statsd"],
    );
    assert_names(
        with_env(
            Config::builder(),
            &[
                ("OTEL_METRICS_EXPORTER", "otlp"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ],
        ),
        &["OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"],
    );
    assert_names(
        with_env(
            Config::builder().otlp(OtlpProtocol::HttpProtobuf),
            &[("OTEL_METRIC_EXPORT_INTERVAL", "10s")],
        ),
        &["OTEL_METRIC_EXPORT_INTERVAL", "10s", "milliseconds"],
    );
    assert_names(
        with_env(Config::builder(), &[("MCP_METRICS_CARDINALITY_LIMIT", "0")]),
        &["MCP_METRICS_CARDINALITY_LIMIT", "\"0\""],
    );
    assert_names(
        with_env(
            Config::builder(),
            &[("MCP_METRICS_TIMEOUT_GUARDRAIL", "fifteen")],
        ),
        &["MCP_METRICS_TIMEOUT_GUARDRAIL", "fifteen"],
    );
    assert_names(
        with_env(
            Config::builder().drop_label(Metric::ListAllServersCalls, "email"),
            &[],
        ),
        &["drop_label", "email", "user_id, project_id"],
    );
    assert_names(
        with_env(
            Config::builder(),
            &[("MCP_METRICS_DROP_LABELS", "enkrypt_list_all_servers_calls")],
        ),
        &["MCP_METRICS_DROP_LABELS", "metric_name:label_key"],
    );
    assert_names(
        with_env(
            Config::builder(),
            &[("OTEL_RESOURCE_ATTRIBUTES", "team=gw,oops")],
        ),
        &["OTEL_RESOURCE_ATTRIBUTES", "oops"],
    );
    assert_names(
        with_env(
            Config::builder().operation_timeout(OperationType::Auth, Duration::ZERO),
            &[],
        ),
        &["operation_timeout", "greater than zero"],
    );
}

#[test]
fn the_environment_configures_what_the_builder_leaves_unset() {
    let config = with_env(
        Config::builder().service_version("1.0.0"),
        &[
            ("OTEL_SERVICE_NAME", "gateway-from-env"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=staging,service.instance.id=gw-1",
            ),
            ("OTEL_METRICS_EXPORTER", "otlp,prometheus"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20t0ken"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "15000"),
            ("MCP_METRICS_TIMEOUT_GUARDRAIL", "5s"),
            (
                "MCP_METRICS_DROP_LABELS",
                "enkrypt_list_all_servers_calls:user_id",
            ),
            ("MCP_METRICS_CARDINALITY_LIMIT", "500"),
        ],
    )
    .unwrap();
    let resource: HashMap<&str, &str> = config
        .resource()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(resource["service.name"], "gateway-from-env");
    assert_eq!(resource["service.version"], "1.0.0");
    assert_eq!(resource["service.instance.id"], "gw-1");
    assert_eq!(resource["deployment.environment"], "staging");
    let otlp = config.otlp().expect("OTEL_METRICS_EXPORTER turns OTLP on");
    assert_eq!(otlp.endpoint, "http://collector:4318/v1/metrics");
    assert_eq!(
        otlp.headers,
        vec![("authorization".into(), "Bearer t0ken".into())]
    );
    assert_eq!(otlp.interval, Duration::from_secs(15));
    assert_eq!(
        otlp.temporality,
        mcp_gateway_metrics::Temporality::Cumulative
    );
    assert!(config.prometheus().is_some());
    assert_eq!(
        config.operation_timeout(OperationType::Guardrail),
        Duration::from_secs(5)
    );
    assert_eq!(
        config.operation_timeout(OperationType::Auth),
        Duration::from_secs(10)
    );
    assert_eq!(
        config.labels_of(Metric::ListAllServersCalls),
        vec!["project_id"]
    );
    assert_eq!(config.cardinality_limit(), 500);

    // The builder wins over the environment.
    let config = with_env(
        Config::builder()
            .service_name("from-builder")
            .prometheus_address("127.0.0.1:19464"),
        &[
            ("OTEL_SERVICE_NAME", "from-env"),
            ("MCP_METRICS_PROMETHEUS_ADDRESS", "127.0.0.1:29464"),
        ],
    )
    .unwrap();
    assert_eq!(
        config
            .resource()
            .iter()
            .find(|(k, _)| k == "service.name")
            .unwrap()
            .1,
        "from-builder"
    );
    assert_eq!(config.prometheus().unwrap().serve_on.unwrap().port(), 19464);

    // Defaults: Prometheus on loopback 9464, no OTLP, a fresh instance id per build.
    let a = with_env(Config::builder(), &[]).unwrap();
    let b = with_env(Config::builder(), &[]).unwrap();
    assert_eq!(
        a.prometheus().unwrap().serve_on.unwrap().to_string(),
        "127.0.0.1:9464"
    );
    assert!(a.otlp().is_none());
    let id = |c: &Config| {
        c.resource()
            .iter()
            .find(|(k, _)| k == "service.instance.id")
            .unwrap()
            .1
            .clone()
    };
    assert_ne!(id(&a), id(&b));
}
