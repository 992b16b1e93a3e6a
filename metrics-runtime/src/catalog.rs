//! The metric catalog of the Secure MCP Gateway: one row per instrument.
//!
//! The table below is the single source of truth. Instrument creation, the exposition tests,
//! README's metric table and the infra checks all derive from it. Adding a metric is one row.

/// What kind of OpenTelemetry instrument a catalog entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A monotonic `u64` counter (Prometheus `counter`).
    Counter,
    /// An `f64` histogram with explicit bucket boundaries (Prometheus `histogram`).
    Histogram,
    /// An `i64` up-down counter (Prometheus `gauge`).
    UpDownCounter,
}

impl MetricKind {
    /// The Prometheus `# TYPE` this kind is exposed as.
    ///
    /// ```
    /// use mcp_gateway_metrics::catalog::MetricKind;
    /// assert_eq!(MetricKind::UpDownCounter.prometheus_type(), "gauge");
    /// ```
    pub const fn prometheus_type(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Histogram => "histogram",
            MetricKind::UpDownCounter => "gauge",
        }
    }
}

/// One instrument of the catalog: everything needed to create it and to check its output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    /// The exact series name, as queried in PromQL.
    pub name: &'static str,
    /// Counter, histogram or up-down counter.
    pub kind: MetricKind,
    /// The unit given to OpenTelemetry (`"1"` for counts, `"s"` for durations).
    pub unit: &'static str,
    /// The description, exported as Prometheus `# HELP`.
    pub description: &'static str,
    /// The label keys, in the reference's order. Empty where the reference lists none.
    pub labels: &'static [&'static str],
    /// Default explicit bucket boundaries (histograms only; empty otherwise).
    pub buckets: &'static [f64],
}

/// Bucket boundaries of the tool-call and guardrail-API durations, in seconds.
pub const REQUEST_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0];
/// Bucket boundaries of the timeout-managed operation duration, in seconds.
pub const TIMEOUT_OPERATION_BUCKETS: &[f64] = &[0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];

macro_rules! catalog {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $name:literal, $kind:ident, $unit:literal, [$($label:literal),*], $buckets:expr,
            $description:literal;
    )*) => {
        /// Identifies one instrument of the catalog. `Metric::X.def()` gives its definition.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Metric {
            $( $(#[$doc])* $variant, )*
        }

        /// The whole catalog, in [`Metric`] order.
        pub const CATALOG: &[MetricDef] = &[
            $( MetricDef {
                name: $name,
                kind: MetricKind::$kind,
                unit: $unit,
                description: $description,
                labels: &[$($label),*],
                buckets: $buckets,
            }, )*
        ];

        impl Metric {
            /// Every metric, in catalog order.
            pub const ALL: &'static [Metric] = &[$(Metric::$variant),*];
        }
    };
}

const NONE: &[f64] = &[];

catalog! {
    /// `enkrypt_tool_calls_total`
    ToolCalls => "enkrypt_tool_calls_total", Counter, "1",
        ["server_name", "tool_name", "project_id"], NONE,
        "Total number of tool invocations across all servers.";
    /// `enkrypt_tool_call_success_total`
    ToolCallSuccess => "enkrypt_tool_call_success_total", Counter, "1",
        ["server_name", "tool_name"], NONE,
        "Total number of successful tool calls.";
    /// `enkrypt_tool_call_failure_total`
    ToolCallFailure => "enkrypt_tool_call_failure_total", Counter, "1",
        ["server_name", "tool_name", "error_type"], NONE,
        "Total number of failed tool calls (e.g., server errors, timeouts).";
    /// `enkrypt_tool_call_error_counter`
    ToolCallErrors => "enkrypt_tool_call_error_counter", Counter, "1",
        ["server_name", "error_type"], NONE,
        "Total number of tool call errors (exceptions, crashes).";
    /// `enkrypt_tool_call_duration_seconds`
    ToolCallDuration => "enkrypt_tool_call_duration_seconds", Histogram, "s",
        ["server_name", "tool_name"], REQUEST_BUCKETS,
        "Duration of tool calls in seconds.";
    /// `enkrypt_list_all_servers_calls`
    ListAllServersCalls => "enkrypt_list_all_servers_calls", Counter, "1",
        ["user_id", "project_id"], NONE,
        "Number of times enkrypt_list_all_servers was called.";
    /// `enkrypt_servers_discovered`
    ServersDiscovered => "enkrypt_servers_discovered", Counter, "1",
        ["mcp_config_id"], NONE,
        "Total number of servers discovered with tools.";
    /// `enkrypt_cache_hits_total`
    CacheHits => "enkrypt_cache_hits_total", Counter, "1",
        ["cache_type"], NONE,
        "Total number of cache hits (data found in cache).";
    /// `enkrypt_cache_misses_total`
    CacheMisses => "enkrypt_cache_misses_total", Counter, "1",
        ["cache_type"], NONE,
        "Total number of cache misses (data not in cache, fetch required).";
    /// `enkrypt_guardrail_violations_total`
    GuardrailViolations => "enkrypt_guardrail_violations_total", Counter, "1",
        ["violation_type", "server_name", "detector"], NONE,
        "Total number of guardrail violations detected.";
    /// `enkrypt_input_guardrail_violations_total`
    InputGuardrailViolations => "enkrypt_input_guardrail_violations_total", Counter, "1",
        ["violation_type", "server_name"], NONE,
        "Guardrail violations on input (before sending to server).";
    /// `enkrypt_output_guardrail_violations_total`
    OutputGuardrailViolations => "enkrypt_output_guardrail_violations_total", Counter, "1",
        ["violation_type", "server_name"], NONE,
        "Guardrail violations on output (after receiving from server).";
    /// `enkrypt_relevancy_violations_total`
    RelevancyViolations => "enkrypt_relevancy_violations_total", Counter, "1",
        ["server_name", "tool_name"], NONE,
        "Relevancy check violations (response not relevant to input).";
    /// `enkrypt_adherence_violations_total`
    AdherenceViolations => "enkrypt_adherence_violations_total", Counter, "1",
        ["server_name", "tool_name"], NONE,
        "Adherence check violations (response doesn't follow instructions).";
    /// `enkrypt_hallucination_violations_total`
    HallucinationViolations => "enkrypt_hallucination_violations_total", Counter, "1",
        ["server_name", "tool_name"], NONE,
        "Hallucination detection violations.";
    /// `enkrypt_tool_call_blocked_total`
    ToolCallBlocked => "enkrypt_tool_call_blocked_total", Counter, "1",
        ["server_name", "tool_name", "reason"], NONE,
        "Total number of tool calls blocked by guardrails.";
    /// `enkrypt_pii_redactions_total`
    PiiRedactions => "enkrypt_pii_redactions_total", Counter, "1",
        ["server_name", "pii_type"], NONE,
        "Total number of PII redaction operations performed.";
    /// `enkrypt_api_requests_total`
    ApiRequests => "enkrypt_api_requests_total", Counter, "1",
        ["endpoint", "status_code"], NONE,
        "Total number of API requests to guardrail service.";
    /// `enkrypt_api_request_duration_seconds`
    ApiRequestDuration => "enkrypt_api_request_duration_seconds", Histogram, "s",
        ["endpoint"], REQUEST_BUCKETS,
        "Duration of guardrail API requests in seconds.";
    /// `enkrypt_auth_success_total`
    AuthSuccess => "enkrypt_auth_success_total", Counter, "1",
        ["auth_provider", "project_id"], NONE,
        "Total number of successful authentications.";
    /// `enkrypt_auth_failure_total`
    AuthFailure => "enkrypt_auth_failure_total", Counter, "1",
        ["auth_provider", "failure_reason"], NONE,
        "Total number of failed authentication attempts.";
    /// `enkrypt_active_sessions`
    ActiveSessions => "enkrypt_active_sessions", UpDownCounter, "1",
        [], NONE,
        "Current number of active sessions.";
    /// `enkrypt_active_users`
    ActiveUsers => "enkrypt_active_users", UpDownCounter, "1",
        [], NONE,
        "Current number of active users.";
    /// `enkrypt_timeout_operations_total`
    TimeoutOperations => "enkrypt_timeout_operations_total", Counter, "1",
        ["operation_type"], NONE,
        "Total number of timeout operations tracked.";
    /// `enkrypt_timeout_operations_successful`
    TimeoutOperationsSuccessful => "enkrypt_timeout_operations_successful", Counter, "1",
        ["operation_type"], NONE,
        "Number of operations completed successfully before timeout.";
    /// `enkrypt_timeout_operations_timed_out`
    TimeoutOperationsTimedOut => "enkrypt_timeout_operations_timed_out", Counter, "1",
        ["operation_type"], NONE,
        "Number of operations that exceeded timeout threshold.";
    /// `enkrypt_timeout_operations_cancelled`
    TimeoutOperationsCancelled => "enkrypt_timeout_operations_cancelled", Counter, "1",
        ["operation_type"], NONE,
        "Number of operations that were cancelled.";
    /// `enkrypt_timeout_escalation_warn`
    TimeoutEscalationWarn => "enkrypt_timeout_escalation_warn", Counter, "1",
        ["operation_type"], NONE,
        "Number of timeout escalation warnings (>80% of timeout).";
    /// `enkrypt_timeout_escalation_timeout`
    TimeoutEscalationTimeout => "enkrypt_timeout_escalation_timeout", Counter, "1",
        ["operation_type"], NONE,
        "Number of operations that reached timeout threshold.";
    /// `enkrypt_timeout_escalation_fail`
    TimeoutEscalationFail => "enkrypt_timeout_escalation_fail", Counter, "1",
        ["operation_type"], NONE,
        "Number of operations that exceeded timeout and failed.";
    /// `enkrypt_timeout_operation_duration_seconds`
    TimeoutOperationDuration => "enkrypt_timeout_operation_duration_seconds", Histogram, "s",
        ["operation_type"], TIMEOUT_OPERATION_BUCKETS,
        "Duration of timeout-managed operations in seconds.";
    /// `enkrypt_timeout_active_operations`
    TimeoutActiveOperations => "enkrypt_timeout_active_operations", UpDownCounter, "1",
        [], NONE,
        "Number of currently active timeout operations.";
}

impl Metric {
    /// This metric's catalog entry.
    ///
    /// ```
    /// use mcp_gateway_metrics::catalog::{Metric, MetricKind};
    /// let def = Metric::ToolCallDuration.def();
    /// assert_eq!(def.name, "enkrypt_tool_call_duration_seconds");
    /// assert_eq!(def.kind, MetricKind::Histogram);
    /// assert_eq!(def.buckets, &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0]);
    /// ```
    pub const fn def(self) -> &'static MetricDef {
        &CATALOG[self as usize]
    }

    /// The exact series name.
    pub const fn name(self) -> &'static str {
        self.def().name
    }

    /// Finds a metric by its exact name.
    ///
    /// ```
    /// use mcp_gateway_metrics::catalog::Metric;
    /// assert_eq!(Metric::from_name("enkrypt_active_sessions"), Some(Metric::ActiveSessions));
    /// assert_eq!(Metric::from_name("enkrypt_active_session"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_the_reference_32_instruments_in_enum_order() {
        assert_eq!(CATALOG.len(), 32);
        assert_eq!(Metric::ALL.len(), 32);
        for (i, m) in Metric::ALL.iter().enumerate() {
            assert_eq!(*m as usize, i);
        }
    }

    #[test]
    fn names_are_unique_and_only_histograms_have_buckets() {
        let mut names: Vec<_> = CATALOG.iter().map(|d| d.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CATALOG.len());
        for def in CATALOG {
            assert_eq!(
                def.kind == MetricKind::Histogram,
                !def.buckets.is_empty(),
                "{}",
                def.name
            );
        }
    }
}
