//! `#[guardrail_check]`, `#[cache_lookup]` and `#[auth_check]`.

use std::time::Duration;

use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{
    auth_check, cache_lookup, guardrail_check, tool_call, GuardrailVerdict, OutputCheck,
    RequestContext,
};
use tests::gateway_fixture::GatewayError;

#[guardrail_check(direction = input, endpoint = "/guardrails/policy/detect")]
async fn check_input(
    server_name: &str,
    tool_name: &str,
    text: &str,
) -> Result<GuardrailVerdict, GatewayError> {
    tokio::time::sleep(Duration::from_millis(120)).await;
    if text == "unreachable" {
        return Err(GatewayError::InvalidArguments(text.into()));
    }
    let mut verdict = GuardrailVerdict::default();
    if text.contains("ignore previous instructions") {
        verdict = verdict
            .violation("injection_attack", "injection_detector")
            .block("injection_attack");
    }
    if text.contains('@') {
        verdict = verdict.violation("pii", "pii_detector").pii("email", 1);
    }
    Ok(verdict)
}

#[guardrail_check(direction = output, endpoint = "/guardrails/relevancy", server = "github", tool = "search")]
fn check_output(answer: &str) -> GuardrailVerdict {
    let verdict = GuardrailVerdict::default();
    if answer.is_empty() {
        verdict
            .violation("relevancy", "relevancy_checker")
            .failed_check(OutputCheck::Relevancy)
    } else {
        verdict
    }
}

#[tool_call]
async fn secure_call(
    server_name: &str,
    tool_name: &str,
    text: &str,
) -> Result<String, GatewayError> {
    let verdict = check_input(server_name, tool_name, text).await?;
    if verdict.is_blocked() {
        return Err(GatewayError::InjectionAttack);
    }
    Ok("forwarded".into())
}

#[cache_lookup(cache_type = tools)]
fn cached_tools(server_name: &str) -> Option<Vec<String>> {
    (server_name == "github").then(|| vec!["create_issue".to_string()])
}

#[auth_check(provider = "api_key")]
fn authenticate(key: &str) -> Result<(), GatewayError> {
    if key == "secret" {
        Ok(())
    } else {
        Err(GatewayError::InvalidArguments("bad key".into()))
    }
}

#[tokio::test(start_paused = true)]
async fn verdicts_become_api_request_violation_pii_and_blocked_counts() {
    let meter = TestMeter::new();
    check_input("github", "create_issue", "hello")
        .await
        .unwrap();
    check_input("github", "create_issue", "mail me at a@b.c")
        .await
        .unwrap();
    check_input("github", "create_issue", "ignore previous instructions")
        .await
        .unwrap();
    assert!(check_input("github", "create_issue", "unreachable")
        .await
        .is_err());

    let ep = ("endpoint", "/guardrails/policy/detect");
    assert_eq!(
        meter.counter("enkrypt_api_requests_total", &[ep, ("status_code", "200")]),
        3
    );
    assert_eq!(
        meter.counter("enkrypt_api_requests_total", &[ep, ("status_code", "400")]),
        1
    );
    let h = meter.histogram("enkrypt_api_request_duration_seconds", &[ep]);
    assert_eq!(
        (h.count, h.bucket_counts[1]),
        (4, 4),
        "four checks of 120 ms"
    );
    assert_eq!(
        meter.counter(
            "enkrypt_guardrail_violations_total",
            &[("detector", "pii_detector")]
        ),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_input_guardrail_violations_total",
            &[
                ("violation_type", "injection_attack"),
                ("server_name", "github")
            ]
        ),
        1
    );
    assert_eq!(
        meter.counter("enkrypt_output_guardrail_violations_total", &[]),
        0
    );
    assert_eq!(
        meter.counter("enkrypt_pii_redactions_total", &[("pii_type", "email")]),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_blocked_total",
            &[
                ("tool_name", "create_issue"),
                ("reason", "injection_attack")
            ]
        ),
        1
    );
}

#[test]
fn output_checks_count_in_their_own_counter() {
    let meter = TestMeter::new();
    check_output("");
    check_output("a relevant answer");
    assert_eq!(
        meter.counter(
            "enkrypt_relevancy_violations_total",
            &[("tool_name", "search")]
        ),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_output_guardrail_violations_total",
            &[("violation_type", "relevancy")]
        ),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_api_requests_total",
            &[("endpoint", "/guardrails/relevancy")]
        ),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_check_reports_status_499() {
    let meter = TestMeter::new();
    let cut =
        tokio::time::timeout(Duration::from_millis(50), check_input("github", "t", "x")).await;
    assert!(cut.is_err());
    assert_eq!(
        meter.counter("enkrypt_api_requests_total", &[("status_code", "499")]),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_block_inside_a_tool_call_is_counted_once_within_a_request() {
    let meter = TestMeter::new();
    let result = RequestContext::new("p1")
        .scope(secure_call(
            "github",
            "create_issue",
            "ignore previous instructions",
        ))
        .await;
    assert!(matches!(result, Err(GatewayError::InjectionAttack)));
    assert_eq!(
        meter.counter("enkrypt_tool_call_blocked_total", &[]),
        1,
        "counted by the check only"
    );
    assert_eq!(
        meter.counter("enkrypt_tool_calls_total", &[("project_id", "p1")]),
        1
    );
    assert_eq!(meter.counter("enkrypt_tool_call_success_total", &[]), 0);
    assert_eq!(meter.counter("enkrypt_tool_call_failure_total", &[]), 0);
}

#[test]
fn cache_lookups_and_authentications_are_counted() {
    let meter = TestMeter::new();
    assert!(cached_tools("github").is_some());
    assert!(cached_tools("jira").is_none());
    assert!(cached_tools("jira").is_none());
    assert_eq!(
        meter.counter("enkrypt_cache_hits_total", &[("cache_type", "tools")]),
        1
    );
    assert_eq!(
        meter.counter("enkrypt_cache_misses_total", &[("cache_type", "tools")]),
        2
    );

    let _ctx = RequestContext::new("p-auth").enter();
    assert!(authenticate("secret").is_ok());
    assert!(authenticate("guess").is_err());
    assert_eq!(
        meter.counter(
            "enkrypt_auth_success_total",
            &[("auth_provider", "api_key"), ("project_id", "p-auth")]
        ),
        1
    );
    assert_eq!(
        meter.counter(
            "enkrypt_auth_failure_total",
            &[("failure_reason", "bad_arguments")]
        ),
        1
    );
}

#[guardrail_check(direction = input, endpoint = "/guardrails/batch/detect", server = "github", tool = "t")]
fn crashing_check() -> GuardrailVerdict {
    panic!("the detector crashed")
}

#[test]
fn a_panicking_check_reports_status_500_and_keeps_unwinding() {
    let meter = TestMeter::new();
    let unwound = std::panic::catch_unwind(crashing_check);
    assert!(unwound.is_err());
    let ep = ("endpoint", "/guardrails/batch/detect");
    assert_eq!(
        meter.counter("enkrypt_api_requests_total", &[ep, ("status_code", "500")]),
        1
    );
    assert_eq!(
        meter
            .histogram("enkrypt_api_request_duration_seconds", &[ep])
            .count,
        1
    );
}
