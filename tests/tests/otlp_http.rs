//! OTLP/HTTP push delivers cumulative data points to a receiver.

use std::time::Duration;

use mcp_gateway_metrics::{record, CacheType, Config, OtlpProtocol};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, NumberDataPoint};
use tests::otlp_receiver::{Export, Receiver};

fn string_of(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.clone()),
            _ => None,
        }
    })
}

/// The data points and temporality of the sum `name` in one export.
fn sum_points<'e>(export: &'e Export, name: &str) -> Option<(&'e [NumberDataPoint], i32)> {
    export.request.resource_metrics.iter().find_map(|rm| {
        rm.scope_metrics.iter().find_map(|sm| {
            sm.metrics
                .iter()
                .filter(|m| m.name == name)
                .find_map(|m| match &m.data {
                    Some(Data::Sum(sum)) => {
                        Some((&sum.data_points[..], sum.aggregation_temporality))
                    }
                    _ => None,
                })
        })
    })
}

/// The `cache_type="tools"` point of enkrypt_cache_hits_total in one export, with its
/// temporality.
fn tools_hits(export: &Export) -> Option<(NumberDataPoint, i32)> {
    let (points, temporality) = sum_points(export, "enkrypt_cache_hits_total")?;
    points
        .iter()
        .find(|dp| string_of(&dp.attributes, "cache_type").as_deref() == Some("tools"))
        .map(|dp| (dp.clone(), temporality))
}

/// enkrypt_tool_calls_total of `tool_name="pushed"` in one export, summed over its points.
fn pushed_calls(export: &Export) -> Option<i64> {
    let (points, _) = sum_points(export, "enkrypt_tool_calls_total")?;
    let pushed =
        |dp: &&NumberDataPoint| string_of(&dp.attributes, "tool_name").as_deref() == Some("pushed");
    Some(points.iter().filter(pushed).map(value).sum())
}

#[mcp_gateway_metrics::tool_call]
fn annotated(server_name: &str, tool_name: &str) -> Result<(), std::io::Error> {
    Ok(())
}

fn value(dp: &NumberDataPoint) -> i64 {
    match dp.value {
        Some(Value::AsInt(v)) => v,
        other => panic!("a counter exports integers, got {other:?}"),
    }
}

fn has_total(total: i64) -> impl Fn(&[Export]) -> bool {
    move |exports| {
        exports
            .iter()
            .any(|e| tools_hits(e).is_some_and(|(dp, _)| value(&dp) == total))
    }
}

#[test]
fn periodic_push_delivers_cumulative_totals_and_the_guard_flushes_the_rest() {
    let receiver = Receiver::start();
    let guard = Config::builder()
        .service_name("otlp-test")
        .prometheus(false)
        .otlp(OtlpProtocol::HttpProtobuf)
        .otlp_endpoint(receiver.url())
        .otlp_header("x-api-key", "s3cret")
        .export_interval(Duration::from_millis(200))
        .install()
        .unwrap();

    for _ in 0..3 {
        record::cache_hit(CacheType::Tools);
    }
    let exports = receiver.wait_for(Duration::from_secs(20), has_total(3));
    let first = exports
        .iter()
        .find(|e| has_total(3)(std::slice::from_ref(*e)))
        .expect("3 arrives");
    assert_eq!(first.path, "/v1/metrics");
    assert_eq!(
        first.headers.get("x-api-key").map(String::as_str),
        Some("s3cret")
    );
    assert_eq!(
        first.headers.get("content-type").map(String::as_str),
        Some("application/x-protobuf")
    );
    let resource = first.request.resource_metrics[0].resource.as_ref().unwrap();
    assert_eq!(
        string_of(&resource.attributes, "service.name").as_deref(),
        Some("otlp-test")
    );
    assert!(string_of(&resource.attributes, "service.instance.id").is_some());
    let (dp3, temporality) = tools_hits(first).unwrap();
    assert_eq!(temporality, AggregationTemporality::Cumulative as i32);

    // Cumulative: the next export carries the running total (5), not the change (2).
    record::cache_hit(CacheType::Tools);
    record::cache_hit(CacheType::Tools);
    let exports = receiver.wait_for(Duration::from_secs(20), has_total(5));
    let (dp5, _) = exports.iter().rev().find_map(tools_hits).unwrap();
    assert_eq!(value(&dp5), 5);
    assert_eq!(
        dp5.start_time_unix_nano, dp3.start_time_unix_nano,
        "same cumulative stream"
    );
    assert!(exports
        .iter()
        .filter_map(tools_hits)
        .all(|(dp, _)| value(&dp) <= 5));

    // What is recorded just before the guard drops is exported by the shutdown, not lost:
    // annotated tool calls too, though they wait in this thread's batch until a collection.
    record::cache_hit(CacheType::Tools);
    for _ in 0..5 {
        annotated("github", "pushed").unwrap();
    }
    drop(guard);
    let exports = receiver.wait_for(Duration::from_secs(5), has_total(6));
    assert!(has_total(6)(&exports), "the final export did not arrive");
    let pushed = exports.iter().filter_map(pushed_calls).max();
    assert_eq!(pushed, Some(5), "the annotated calls in the final export");
}
