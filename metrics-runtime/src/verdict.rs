//! What a guardrail check found, as `#[guardrail_check]` records it.

use crate::labels::OutputCheck;

/// Receives a guardrail check's findings; see [`Verdict`].
pub trait VerdictSink {
    /// One violation: its `violation_type` (e.g. `injection_attack`, `pii`) and the detector
    /// that found it.
    fn violation(&mut self, violation_type: &str, detector: &str);
    /// A failed output check (relevancy, adherence, hallucination).
    fn output_check_failed(&mut self, check: OutputCheck);
    /// `count` redactions of one PII type.
    fn pii_redacted(&mut self, pii_type: &str, count: u64);
    /// The check blocks the call, for `reason`.
    fn blocked(&mut self, reason: &str);
}

/// The result of a guardrail check, as the metrics see it. Implement it for your own verdict
/// type, or use [`GuardrailVerdict`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a guardrail verdict",
    label = "`#[guardrail_check]` records the verdict this function returns",
    note = "return a type that implements `mcp_gateway_metrics::Verdict` (such as `GuardrailVerdict`), or `Result<it, E>`"
)]
pub trait Verdict {
    /// Reports every finding to `sink`.
    fn report(&self, sink: &mut dyn VerdictSink);

    /// The status code of the guardrail-API call that produced this verdict.
    fn status_code(&self) -> u16 {
        200
    }
}

/// One violation found by a detector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `violation_type` label value, e.g. `injection_attack`.
    pub violation_type: String,
    /// `detector` label value, e.g. `injection_detector`.
    pub detector: String,
}

/// A ready-made verdict.
///
/// ```
/// use mcp_gateway_metrics::{GuardrailVerdict, OutputCheck};
///
/// let verdict = GuardrailVerdict::default()
///     .violation("pii", "pii_detector")
///     .pii("email", 2)
///     .failed_check(OutputCheck::Relevancy)
///     .block("pii");
/// assert!(verdict.is_blocked());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardrailVerdict {
    /// Violations found.
    pub violations: Vec<Violation>,
    /// Failed output checks.
    pub failed_checks: Vec<OutputCheck>,
    /// PII redactions, by type.
    pub pii_redactions: Vec<(String, u64)>,
    /// Why the call is blocked, if it is.
    pub block_reason: Option<String>,
}

impl GuardrailVerdict {
    /// Adds a violation.
    pub fn violation(
        mut self,
        violation_type: impl Into<String>,
        detector: impl Into<String>,
    ) -> Self {
        self.violations.push(Violation {
            violation_type: violation_type.into(),
            detector: detector.into(),
        });
        self
    }

    /// Adds a failed output check.
    pub fn failed_check(mut self, check: OutputCheck) -> Self {
        self.failed_checks.push(check);
        self
    }

    /// Adds PII redactions.
    pub fn pii(mut self, pii_type: impl Into<String>, count: u64) -> Self {
        self.pii_redactions.push((pii_type.into(), count));
        self
    }

    /// Blocks the call.
    pub fn block(mut self, reason: impl Into<String>) -> Self {
        self.block_reason = Some(reason.into());
        self
    }

    /// Whether the verdict blocks the call.
    pub fn is_blocked(&self) -> bool {
        self.block_reason.is_some()
    }
}

impl Verdict for GuardrailVerdict {
    fn report(&self, sink: &mut dyn VerdictSink) {
        for v in &self.violations {
            sink.violation(&v.violation_type, &v.detector);
        }
        for check in &self.failed_checks {
            sink.output_check_failed(*check);
        }
        for (pii_type, count) in &self.pii_redactions {
            sink.pii_redacted(pii_type, *count);
        }
        if let Some(reason) = &self.block_reason {
            sink.blocked(reason);
        }
    }
}

impl<V: Verdict + ?Sized> Verdict for &V {
    fn report(&self, sink: &mut dyn VerdictSink) {
        (**self).report(sink)
    }
    fn status_code(&self) -> u16 {
        (**self).status_code()
    }
}
