//! Guardrails: violations, output checks, PII redactions and the guardrail API.

use std::time::Duration;

use super::{decimal, emit, emit_in};
use crate::catalog::Metric;
use crate::instruments::Measurement;
use crate::labels::{Direction, OutputCheck};
use crate::pipeline::{self, Pipeline};

/// Counts one guardrail violation in `enkrypt_guardrail_violations_total`
/// {violation_type, server_name, detector} and in the input or output counter
/// {violation_type, server_name}.
///
/// ```
/// use mcp_gateway_metrics::{record, testing::TestMeter, Direction};
/// let meter = TestMeter::new();
/// record::guardrail_violation(Direction::Input, "injection_attack", "github", "injection_detector");
/// assert_eq!(meter.counter("enkrypt_guardrail_violations_total", &[("detector", "injection_detector")]), 1);
/// assert_eq!(meter.counter("enkrypt_input_guardrail_violations_total", &[("violation_type", "injection_attack")]), 1);
/// assert_eq!(meter.counter("enkrypt_output_guardrail_violations_total", &[]), 0);
/// ```
pub fn guardrail_violation(
    direction: Direction,
    violation_type: &str,
    server_name: &str,
    detector: &str,
) {
    pipeline::with_current(|p| {
        guardrail_violation_in(
            p.map(|p| &**p),
            direction,
            violation_type,
            server_name,
            detector,
        )
    });
}

/// [`guardrail_violation`] in a given pipeline.
pub(crate) fn guardrail_violation_in(
    p: Option<&Pipeline>,
    direction: Direction,
    violation_type: &str,
    server_name: &str,
    detector: &str,
) {
    emit_in(
        p,
        Metric::GuardrailViolations,
        Measurement::Add(1),
        &[
            ("violation_type", violation_type),
            ("server_name", server_name),
            ("detector", detector),
        ],
    );
    let side = match direction {
        Direction::Input => Metric::InputGuardrailViolations,
        Direction::Output => Metric::OutputGuardrailViolations,
    };
    emit_in(
        p,
        side,
        Measurement::Add(1),
        &[
            ("violation_type", violation_type),
            ("server_name", server_name),
        ],
    );
}

/// Counts a failed relevancy, adherence or hallucination check in its own counter
/// {server_name, tool_name}.
pub fn output_check_violation(check: OutputCheck, server_name: &str, tool_name: &str) {
    pipeline::with_current(|p| {
        output_check_violation_in(p.map(|p| &**p), check, server_name, tool_name)
    });
}

/// [`output_check_violation`] in a given pipeline.
pub(crate) fn output_check_violation_in(
    p: Option<&Pipeline>,
    check: OutputCheck,
    server_name: &str,
    tool_name: &str,
) {
    emit_in(
        p,
        check.metric(),
        Measurement::Add(1),
        &[("server_name", server_name), ("tool_name", tool_name)],
    );
}

/// Adds `count` PII redactions of one type (`enkrypt_pii_redactions_total{server_name, pii_type}`).
pub fn pii_redactions(server_name: &str, pii_type: &str, count: u64) {
    pipeline::with_current(|p| pii_redactions_in(p.map(|p| &**p), server_name, pii_type, count));
}

/// [`pii_redactions`] in a given pipeline.
pub(crate) fn pii_redactions_in(
    p: Option<&Pipeline>,
    server_name: &str,
    pii_type: &str,
    count: u64,
) {
    emit_in(
        p,
        Metric::PiiRedactions,
        Measurement::Add(count),
        &[("server_name", server_name), ("pii_type", pii_type)],
    );
}

/// Records one request to the guardrail service: `enkrypt_api_requests_total{endpoint,
/// status_code}` and `enkrypt_api_request_duration_seconds{endpoint}`.
///
/// ```
/// use std::time::Duration;
/// use mcp_gateway_metrics::{record, testing::TestMeter};
/// let meter = TestMeter::new();
/// record::guardrail_api_request("/guardrails/policy/detect", 200, Duration::from_millis(120));
/// assert_eq!(meter.counter("enkrypt_api_requests_total", &[("status_code", "200")]), 1);
/// let h = meter.histogram("enkrypt_api_request_duration_seconds", &[]);
/// assert_eq!((h.count, h.bucket_counts[1]), (1, 1)); // 0.1 < 0.12 <= 0.5
/// ```
pub fn guardrail_api_request(endpoint: &str, status_code: u16, duration: Duration) {
    emit(
        Metric::ApiRequests,
        Measurement::Add(1),
        &[
            ("endpoint", endpoint),
            ("status_code", decimal(status_code, &mut [0; 5])),
        ],
    );
    emit(
        Metric::ApiRequestDuration,
        Measurement::Observe(duration.as_secs_f64()),
        &[("endpoint", endpoint)],
    );
}
