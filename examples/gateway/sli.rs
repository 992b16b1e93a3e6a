//! What the gateway reports about itself (the SLI summary, `enkrypt_get_timeout_metrics`),
//! read back from its own metrics with the runtime's typed reads.

use mcp_gateway_metrics::catalog::Metric;
use mcp_gateway_metrics::read::{self, Snapshot};
use mcp_gateway_metrics::OperationType;
use serde_json::{json, Map, Value};

/// The metrics now (empty when the Prometheus exporter, which the reads go through, is off).
pub fn now() -> Snapshot {
    read::snapshot().unwrap_or_default()
}

/// The timeout manager's counters, by operation type.
pub fn timeout_metrics() -> Value {
    let now = now();
    let counters = [
        Metric::TimeoutOperations,
        Metric::TimeoutOperationsSuccessful,
        Metric::TimeoutOperationsTimedOut,
        Metric::TimeoutOperationsCancelled,
        Metric::TimeoutEscalationWarn,
        Metric::TimeoutEscalationTimeout,
        Metric::TimeoutEscalationFail,
    ];
    let mut by_op = Map::new();
    for op in OperationType::ALL {
        let labels = [("operation_type", op.as_str())];
        let mut values = Map::new();
        for metric in counters {
            let short = metric.name().trim_start_matches("enkrypt_timeout_");
            values.insert(short.into(), json!(now.counter(metric, &labels) as f64));
        }
        let duration = now.histogram(Metric::TimeoutOperationDuration, &labels);
        values.insert(
            "operation_duration_seconds_count".into(),
            json!(duration.count as f64),
        );
        by_op.insert(op.as_str().into(), Value::Object(values));
    }
    json!({
        "active_operations": now.gauge(Metric::TimeoutActiveOperations, &[]) as f64,
        "by_operation_type": by_op,
    })
}
