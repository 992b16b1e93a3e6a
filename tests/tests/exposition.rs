//! The rendered exposition carries the whole catalog exactly as the reference names it.

use std::collections::BTreeSet;

use mcp_gateway_metrics::catalog::{Metric, MetricKind, CATALOG};
use mcp_gateway_metrics::record::{self, Outcome, ToolCallLabels};
use mcp_gateway_metrics::testing::{record_every_family, TestMeter};
use mcp_gateway_metrics::Config;
use tests::exposition::{parse, Family};

fn families_of_every_metric() -> std::collections::BTreeMap<String, Family> {
    let meter = TestMeter::new();
    let _session = record::session_started();
    let _user = record::user_active();
    record_every_family();
    let text = meter.render();
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn all_32_names_are_exposed_with_their_type_help_and_label_keys() {
    let families = families_of_every_metric();
    assert_eq!(CATALOG.len(), 32);
    for def in CATALOG {
        let family = families
            .get(def.name)
            .unwrap_or_else(|| panic!("{} is missing from the exposition", def.name));
        assert_eq!(
            family.kind,
            def.kind.prometheus_type(),
            "TYPE of {}",
            def.name
        );
        assert_eq!(family.help, def.description, "HELP of {}", def.name);
        let expected: BTreeSet<String> = def.labels.iter().map(|l| l.to_string()).collect();
        assert_eq!(family.label_keys(), expected, "label keys of {}", def.name);
        assert!(!family.samples.is_empty(), "{} has no sample", def.name);
    }
    // Nothing else but the resource's target_info: no suffixed duplicates, no scope labels.
    let extra: Vec<&String> = families
        .keys()
        .filter(|n| Metric::from_name(n).is_none() && *n != "target_info")
        .collect();
    assert!(extra.is_empty(), "unexpected families: {extra:?}");
}

#[test]
fn the_reference_names_are_not_mangled() {
    let families = families_of_every_metric();
    // No _total appended, no unit suffix, gauges stay gauges without _ratio.
    for name in [
        "enkrypt_list_all_servers_calls",
        "enkrypt_servers_discovered",
        "enkrypt_timeout_escalation_warn",
        "enkrypt_timeout_operations_successful",
        "enkrypt_tool_call_error_counter",
    ] {
        assert_eq!(families[name].kind, "counter", "{name}");
        assert!(families[name].samples.iter().all(|(n, _, _)| n == name));
    }
    assert_eq!(families["enkrypt_active_sessions"].kind, "gauge");
    assert_eq!(
        families["enkrypt_active_sessions"].value("enkrypt_active_sessions", &[]),
        1.0
    );
    assert!(families
        .keys()
        .all(|n| !n.ends_with("_ratio") && !n.ends_with("_total_total")));
    let calls = &families["enkrypt_tool_calls_total"];
    assert_eq!(
        calls.value("enkrypt_tool_calls_total", &[("server_name", "github")]),
        4.0
    );
}

#[test]
fn histograms_have_exactly_the_reference_buckets() {
    let families = families_of_every_metric();
    let expect = |name: &str, bounds: &[&str]| {
        let mut want: Vec<String> = bounds.iter().map(|b| b.to_string()).collect();
        want.push("+Inf".into());
        assert_eq!(families[name].bucket_bounds(), want, "{name}");
    };
    expect(
        "enkrypt_tool_call_duration_seconds",
        &["0.1", "0.5", "1", "2", "5", "10"],
    );
    expect(
        "enkrypt_api_request_duration_seconds",
        &["0.1", "0.5", "1", "2", "5", "10"],
    );
    expect(
        "enkrypt_timeout_operation_duration_seconds",
        &["0.5", "1", "2", "5", "10", "30", "60"],
    );
    // And the catalog agrees with what is exposed.
    for def in CATALOG.iter().filter(|d| d.kind == MetricKind::Histogram) {
        let shown: Vec<f64> = families[def.name]
            .bucket_bounds()
            .iter()
            .filter(|b| *b != "+Inf")
            .map(|b| b.parse().unwrap())
            .collect();
        assert_eq!(shown, def.buckets, "{}", def.name);
    }
    // A tool call of 0.3 s lands in le="0.5", not in le="0.1".
    let d = &families["enkrypt_tool_call_duration_seconds"];
    let bucket = |le| d.value("enkrypt_tool_call_duration_seconds_bucket", &[("le", le)]);
    assert_eq!(
        (bucket("0.1"), bucket("0.5"), bucket("+Inf")),
        (2.0, 3.0, 4.0)
    );
}

#[test]
fn configured_buckets_replace_the_defaults() {
    let meter = TestMeter::with_config(
        Config::builder().buckets(Metric::ToolCallDuration, [0.05, 0.25, 1.0]),
    )
    .unwrap();
    let labels = ToolCallLabels {
        server_name: "s",
        tool_name: "t",
        project_id: "p",
    };
    record::tool_call(
        &labels,
        Outcome::Success,
        std::time::Duration::from_millis(200),
    );
    let families = parse(&meter.render()).unwrap();
    assert_eq!(
        families["enkrypt_tool_call_duration_seconds"].bucket_bounds(),
        ["0.05", "0.25", "1", "+Inf"]
    );
    let h = meter.histogram("enkrypt_tool_call_duration_seconds", &[]);
    assert_eq!(
        (h.bounds, h.bucket_counts),
        (vec![0.05, 0.25, 1.0], vec![0, 1, 0, 0])
    );
}

#[test]
fn an_operator_can_drop_a_label_key() {
    let meter = TestMeter::with_config(
        Config::builder().drop_label(Metric::ListAllServersCalls, "user_id"),
    )
    .unwrap();
    for user in ["alice@example.com", "bob@example.com", "carol@example.com"] {
        record::list_all_servers(user, "p1");
    }
    let series = meter.series("enkrypt_list_all_servers_calls");
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(
        series[0].labels,
        vec![("project_id".to_string(), "p1".to_string())]
    );
    assert_eq!(series[0].value, 3.0);
    let text = meter.render();
    assert!(!text.contains("user_id"), "{text}");
}

#[test]
fn a_runaway_label_is_capped_by_the_overflow_series_and_nothing_is_lost() {
    let meter = TestMeter::with_config(Config::builder().cardinality_limit(10)).unwrap();
    for i in 0..100 {
        record::auth_failure("api_key", &format!("reason-{i}"));
    }
    let series = meter.series("enkrypt_auth_failure_total");
    // Ten label sets, then one overflow series for everything past them.
    assert_eq!(series.len(), 11, "{series:?}");
    let overflow: Vec<_> = series
        .iter()
        .filter(|s| {
            s.labels
                .iter()
                .any(|(k, v)| k == "otel.metric.overflow" && v == "true")
        })
        .collect();
    assert_eq!(overflow.len(), 1, "{series:?}");
    assert_eq!(meter.counter("enkrypt_auth_failure_total", &[]), 100);
}

#[test]
fn a_stray_label_key_never_reaches_the_exposition() {
    // The view keeps only the catalog's keys, whatever a caller attaches.
    let meter = TestMeter::new();
    record::cache_hit(mcp_gateway_metrics::CacheType::Tools);
    let families = parse(&meter.render()).unwrap();
    assert_eq!(
        families["enkrypt_cache_hits_total"].label_keys(),
        BTreeSet::from(["cache_type".to_string()])
    );
}
