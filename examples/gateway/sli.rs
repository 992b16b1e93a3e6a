//! Reading the gateway's own metrics back: the timeout manager's counters for
//! `enkrypt_get_timeout_metrics`, and the SLI summary of the workload mode.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// One sample of the exposition: name, labels, value.
pub type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the Prometheus text of the current pipeline into samples (comments skipped).
pub fn samples() -> Vec<Sample> {
    mcp_gateway_metrics::render()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        v => v.parse().ok()?,
    };
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, rest.trim_end_matches('}')),
        None => (series, ""),
    };
    let labels = labels
        .split("\",")
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let (k, v) = kv.split_once("=\"")?;
            Some((k.to_owned(), v.trim_end_matches('"').to_owned()))
        })
        .collect();
    Some((name.to_owned(), labels, value))
}

/// The sum of a series over the samples whose labels include `labels`.
pub fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| v)
        .sum()
}

/// The timeout manager's counters by operation type.
pub fn timeout_metrics() -> Value {
    let samples = samples();
    let mut by_op: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for (name, labels, value) in &samples {
        let Some(short) = name.strip_prefix("enkrypt_timeout_") else {
            continue;
        };
        let Some(op) = labels.get("operation_type") else {
            continue;
        };
        if short.ends_with("_bucket") || short.ends_with("_sum") {
            continue;
        }
        by_op
            .entry(op.clone())
            .or_default()
            .insert(short.to_owned(), json!(value));
    }
    json!({
        "active_operations": sum(&samples, "enkrypt_timeout_active_operations", &[]),
        "by_operation_type": by_op,
    })
}

/// The quantile `q` of a histogram's buckets (linear within a bucket, as PromQL does).
pub fn quantile(samples: &[Sample], histogram: &str, q: f64) -> Option<f64> {
    let bucket = format!("{histogram}_bucket");
    let mut bounds: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for (name, labels, value) in samples.iter().filter(|(n, _, _)| *n == bucket) {
        let le: f64 = match labels.get("le")?.as_str() {
            "+Inf" => f64::INFINITY,
            v => v.parse().ok()?,
        };
        let _ = name;
        bounds.entry(le.to_bits()).or_insert((le, 0.0)).1 += value;
    }
    let mut sorted: Vec<(f64, f64)> = bounds.into_values().collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = sorted.last()?.1;
    if total == 0.0 {
        return None;
    }
    let rank = q * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for (le, count) in sorted {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower);
            }
            return Some(
                lower + (le - lower) * (rank - below) / (count - below).max(f64::MIN_POSITIVE),
            );
        }
        lower = le;
        below = count;
    }
    None
}
