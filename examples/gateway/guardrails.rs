//! Guardrails that run locally: PII redaction (and restoration), input detectors (injection,
//! toxicity, banned keywords) and output checks (relevancy, adherence, hallucination, PII),
//! each an instrumented "guardrail API" call with its endpoint label.

use std::sync::LazyLock;

use mcp_gateway_metrics::{
    guardrail_check, timeout_op, GuardrailVerdict, OutputCheck, Verdict, VerdictSink,
};
use regex::Regex;
use rmcp::model::JsonObject;
use serde_json::Value;

use super::config::SidePolicy;
use super::error::GatewayError;

/// Output checks: relevancy below this is a violation (gateway-facts).
pub const RELEVANCY_THRESHOLD: f64 = 0.7;
/// Output checks: adherence below this is a violation (gateway-facts).
pub const ADHERENCE_THRESHOLD: f64 = 0.8;

static PII: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    vec![
        (
            "email",
            Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").unwrap(),
        ),
        (
            "credit_card",
            Regex::new(r"\b(?:\d[ -]?){13,16}\b").unwrap(),
        ),
        (
            "phone",
            Regex::new(r"\+?\d{1,3}[ -]?\(?\d{3}\)?[ -]?\d{3}[ -]?\d{4}\b").unwrap(),
        ),
    ]
});

/// The placeholders [`Redaction::redact`] writes: `<EMAIL_3>`.
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<(EMAIL|CREDIT_CARD|PHONE)_(\d+)>").unwrap());

/// The most text (the request's string values together) the guardrails look at: a larger
/// request is refused with a clear error before any detector runs.
pub const MAX_GUARDED_BYTES: usize = 256 * 1024;

const INJECTION: &[&str] = &[
    "ignore previous instructions",
    "ignore all previous",
    "disregard your instructions",
    "reveal your system prompt",
];

const TOXIC: &[&str] = &["idiot", "stupid", "i hate you"];

/// A request with its PII replaced by placeholders, and how to put the values back.
#[derive(Debug, Clone, Default)]
pub struct Redaction {
    pub args: JsonObject,
    pub restore: Vec<(String, String)>,
    verdict: GuardrailVerdict,
}

impl Redaction {
    /// The request as it is, when input guardrails are off.
    pub fn none(args: JsonObject) -> Self {
        Redaction {
            args,
            ..Default::default()
        }
    }

    /// The request's string values, for the detectors.
    pub fn text(&self) -> String {
        fn strings(value: &Value, out: &mut Vec<String>) {
            match value {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
                Value::Object(o) => o.values().for_each(|v| strings(v, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        self.args.values().for_each(|v| strings(v, &mut out));
        out.join(" ")
    }

    /// Puts the original values back into an answer, in one pass over it.
    pub fn restore(&self, answer: &str) -> String {
        if self.restore.is_empty() {
            return answer.to_owned();
        }
        PLACEHOLDER
            .replace_all(answer, |c: &regex::Captures<'_>| {
                let original = c[2]
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| self.restore.get(n.wrapping_sub(1)))
                    .filter(|(placeholder, _)| placeholder == &c[0]);
                match original {
                    Some((_, value)) => value.clone(),
                    None => c[0].to_owned(),
                }
            })
            .into_owned()
    }

    /// Replaces each PII match with a numbered placeholder, one pass per pattern.
    fn redact(&mut self, value: &mut Value, counts: &mut [u64]) {
        match value {
            Value::String(s) => {
                for (i, (pii_type, pattern)) in PII.iter().enumerate() {
                    let restore = &mut self.restore;
                    let redacted = pattern.replace_all(s, |c: &regex::Captures<'_>| {
                        counts[i] += 1;
                        let placeholder =
                            format!("<{}_{}>", pii_type.to_uppercase(), restore.len() + 1);
                        restore.push((placeholder.clone(), c[0].to_owned()));
                        placeholder
                    });
                    if let std::borrow::Cow::Owned(redacted) = redacted {
                        *s = redacted;
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|v| self.redact(v, counts)),
            Value::Object(o) => o.values_mut().for_each(|v| self.redact(v, counts)),
            _ => {}
        }
    }
}

impl Verdict for Redaction {
    fn report(&self, sink: &mut dyn VerdictSink) {
        self.verdict.report(sink)
    }
}

/// Refuses arguments whose string values together exceed [`MAX_GUARDED_BYTES`]: the
/// guardrails would have to read them all.
pub fn check_size(args: &JsonObject) -> Result<(), GatewayError> {
    let size = text_bytes(args);
    if size > MAX_GUARDED_BYTES {
        return Err(GatewayError::InvalidArguments(format!(
            "the arguments hold {size} bytes of text; the guardrails read at most {MAX_GUARDED_BYTES}"
        )));
    }
    Ok(())
}

/// Text up to this size is checked in place: a few microseconds of linear work, less than a
/// hop to another thread costs (offloading every check cost a fifth of the gateway's
/// throughput).
pub const INLINE_GUARDED_BYTES: usize = 16 * 1024;

/// Whether `bytes` of text are checked in place rather than on the blocking pool.
fn in_place(bytes: usize) -> bool {
    bytes <= INLINE_GUARDED_BYTES
}

/// Runs a detector's CPU work (over more than [`INLINE_GUARDED_BYTES`] of text, on owned
/// copies) on tokio's blocking pool, where it never holds an async worker (other calls go on
/// while it runs) and the enforced `#[timeout_op]` deadline of the check cuts off the wait
/// for it (the work itself is bounded by [`MAX_GUARDED_BYTES`] and linear, so it ends soon
/// after). A detector that panics panics the check, which records it as a crash.
async fn on_blocking_pool<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => panic!("the runtime shut down while a guardrail check ran"),
    }
}

/// The bytes of text in the arguments: keys and string values, at every depth.
fn text_bytes(args: &JsonObject) -> usize {
    fn bytes(value: &Value) -> usize {
        match value {
            Value::String(s) => s.len(),
            Value::Array(a) => a.iter().map(bytes).sum(),
            Value::Object(o) => o.iter().map(|(k, v)| k.len() + bytes(v)).sum(),
            _ => 0,
        }
    }
    args.iter().map(|(k, v)| k.len() + bytes(v)).sum()
}

/// Replaces PII in the request's strings with placeholders before it goes upstream.
#[guardrail_check(direction = input, endpoint = "/guardrails/pii")]
#[timeout_op(operation = guardrail)]
pub async fn redact_pii(
    server_name: &str,
    tool_name: &str,
    args: &JsonObject,
) -> Result<Redaction, GatewayError> {
    let args = args.clone();
    if in_place(text_bytes(&args)) {
        return Ok(redact_all(args));
    }
    Ok(on_blocking_pool(move || redact_all(args)).await)
}

fn redact_all(args: JsonObject) -> Redaction {
    let mut redaction = Redaction {
        args,
        ..Default::default()
    };
    let mut counts = vec![0u64; PII.len()];
    let mut values: Vec<Value> = redaction.args.values().cloned().collect();
    for v in values.iter_mut() {
        redaction.redact(v, &mut counts);
    }
    for (slot, v) in redaction.args.values_mut().zip(values) {
        *slot = v;
    }
    for ((pii_type, _), count) in PII.iter().zip(counts) {
        if count > 0 {
            redaction.verdict = std::mem::take(&mut redaction.verdict).pii(*pii_type, count);
        }
    }
    redaction
}

/// The input detectors, on the (redacted) request.
#[guardrail_check(direction = input, endpoint = "/guardrails/policy/detect")]
#[timeout_op(operation = guardrail)]
pub async fn check_input(
    server_name: &str,
    tool_name: &str,
    text: &str,
    policy: &SidePolicy,
) -> Result<GuardrailVerdict, GatewayError> {
    if in_place(text.len()) {
        return Ok(detect_input(text, policy));
    }
    let (text, policy) = (text.to_owned(), policy.clone());
    Ok(on_blocking_pool(move || detect_input(&text, &policy)).await)
}

fn detect_input(text: &str, policy: &SidePolicy) -> GuardrailVerdict {
    let lower = text.to_lowercase();
    let mut found: Vec<(&str, &str)> = Vec::new();
    if INJECTION.iter().any(|p| lower.contains(p)) {
        found.push(("injection_attack", "injection_detector"));
    }
    if TOXIC.iter().any(|w| lower.contains(w)) {
        found.push(("toxicity", "toxicity_detector"));
    }
    if policy
        .keywords
        .iter()
        .any(|k| lower.contains(&k.to_lowercase()))
    {
        found.push(("keyword_detector", "keyword_detector"));
    }
    decide(found, policy)
}

/// The output checks, on the upstream's answer.
#[guardrail_check(direction = output, endpoint = "/guardrails/batch/detect")]
#[timeout_op(operation = guardrail)]
pub async fn check_output(
    server_name: &str,
    tool_name: &str,
    request: &str,
    answer: &str,
    policy: &SidePolicy,
) -> Result<GuardrailVerdict, GatewayError> {
    if in_place(request.len() + answer.len()) {
        return Ok(detect_output(request, answer, policy));
    }
    let (request, answer, policy) = (request.to_owned(), answer.to_owned(), policy.clone());
    Ok(on_blocking_pool(move || detect_output(&request, &answer, &policy)).await)
}

fn detect_output(request: &str, answer: &str, policy: &SidePolicy) -> GuardrailVerdict {
    let mut found: Vec<(&str, &str)> = Vec::new();
    let mut failed = Vec::new();
    if relevancy(request, answer) < RELEVANCY_THRESHOLD {
        found.push(("relevancy", "relevancy_checker"));
        failed.push(OutputCheck::Relevancy);
    }
    if adherence(answer) < ADHERENCE_THRESHOLD {
        found.push(("adherence", "adherence_checker"));
        failed.push(OutputCheck::Adherence);
    }
    if answer.contains("[unverified") {
        found.push(("hallucination", "hallucination_detector"));
        failed.push(OutputCheck::Hallucination);
    }
    if PII.iter().any(|(_, p)| p.is_match(answer)) {
        found.push(("pii", "pii_detector"));
    }
    failed
        .into_iter()
        .fold(decide(found, policy), GuardrailVerdict::failed_check)
}

/// Violations become a verdict: the first one whose type the policy blocks blocks the call.
fn decide(found: Vec<(&str, &str)>, policy: &SidePolicy) -> GuardrailVerdict {
    let mut verdict = GuardrailVerdict::default();
    for (violation_type, detector) in found {
        verdict = verdict.violation(violation_type, detector);
        if verdict.block_reason.is_none() && policy.block.iter().any(|b| b == violation_type) {
            verdict = verdict.block(violation_type);
        }
    }
    verdict
}

/// The share of the request's words (4 letters or more) that are words of the answer. Linear
/// in both texts: the answer's words go into a set once.
pub fn relevancy(request: &str, answer: &str) -> f64 {
    fn words(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 4)
            .map(str::to_lowercase)
    }
    let answer: std::collections::HashSet<String> = words(answer).collect();
    let (mut asked, mut mentioned) = (0usize, 0usize);
    for word in words(request) {
        asked += 1;
        mentioned += usize::from(answer.contains(&word));
    }
    if asked == 0 {
        1.0
    } else {
        mentioned as f64 / asked as f64
    }
}

/// An answer that says it left part of the work out does not follow its instructions.
pub fn adherence(answer: &str) -> f64 {
    if answer.contains("(truncated)") {
        0.5
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_round_trips_every_match() {
        let mut args = JsonObject::new();
        args.insert(
            "body".into(),
            Value::String("mail a@b.io and c@d.io, card 4111 1111 1111 1111".into()),
        );
        let mut redaction = Redaction::none(args);
        let mut counts = vec![0; PII.len()];
        let mut value = redaction.args["body"].clone();
        redaction.redact(&mut value, &mut counts);
        let text = value.as_str().unwrap();
        assert_eq!(text, "mail <EMAIL_1> and <EMAIL_2>, card <CREDIT_CARD_3>");
        assert_eq!(counts, vec![2, 1, 0]);
        assert_eq!(
            redaction.restore(&format!("{text} <EMAIL_9> <EMAIL_2>")),
            "mail a@b.io and c@d.io, card 4111 1111 1111 1111 <EMAIL_9> c@d.io"
        );
    }

    #[test]
    fn relevancy_counts_request_words_the_answer_has() {
        assert_eq!(relevancy("timeout handling", "about timeout handling"), 1.0);
        assert_eq!(relevancy("timeout handling", "about timeouts"), 0.0);
        assert_eq!(relevancy("timeout handling", "Timeout!"), 0.5);
        assert_eq!(relevancy("a b", "anything"), 1.0);
    }

    #[test]
    fn large_inputs_round_trip() {
        // 4,000 emails and 200 KiB of words: quadratic code took seconds here.
        let text: String = (0..4_000)
            .map(|i| format!("user{i}@example.com words "))
            .collect();
        let mut redaction = Redaction::none(JsonObject::new());
        let mut counts = vec![0; PII.len()];
        let mut value = Value::String(text.clone());
        redaction.redact(&mut value, &mut counts);
        assert_eq!(counts[0], 4_000);
        let restored = redaction.restore(value.as_str().unwrap());
        assert_eq!(restored, text);
        assert_eq!(relevancy(&text, &text), 1.0);
    }
}
