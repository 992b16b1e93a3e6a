// The attributes, re-exported with their reference documentation (included by lib.rs).

/// Records the tool-call family for every call of the function.
///
/// Records `enkrypt_tool_calls_total{server_name, tool_name, project_id}`, and when the call
/// ends, however it ends: `enkrypt_tool_call_success_total`, or
/// `enkrypt_tool_call_failure_total{error_type}` (plus `enkrypt_tool_call_error_counter` for
/// crashes), or `enkrypt_tool_call_blocked_total{reason}`; and
/// `enkrypt_tool_call_duration_seconds`.
///
/// # Arguments
///
/// | argument | value | default |
/// |---|---|---|
/// | `server` (alias `server_name`) | a string literal, or an expression evaluated once before the body | the parameter named `server_name` (or `_server_name`) |
/// | `tool` (alias `tool_name`) | as above | the parameter named `tool_name` (or `_tool_name`) |
/// | `project` (alias `project_id`) | as above | the parameter named `project_id`, else the current [`RequestContext`]'s project, else `unknown` |
/// | `allow_unbounded_labels` | flag | label expressions named like unbounded values (`request_id`, `user_id`, `email`, `timestamp`, ...) are refused |
/// | `crate` | a path | the runtime under the name your `Cargo.toml` gives it (a renamed dependency works as is); the argument is for a re-export by another crate |
///
/// # Outcomes
///
/// `Ok` (or a value that is not a `Result`) is a success. `Err(e)` is classified by
/// [`ErrorType`](trait@crate::ErrorType): a blocked reason ends the call as blocked, a crash
/// also counts as an error, anything else is a failure with `e`'s `error_type`. A panic is a
/// failure and an error with `error_type="panic"` and keeps unwinding; a future dropped before
/// it finished is one with `error_type="cancelled"`. Under an enforced
/// [`timeout_op`](macro@crate::timeout_op), a call cut off by its deadline is a failure with
/// `error_type="timeout"`. A generic error type (`-> Result<T, E>` with `E` a parameter of the
/// function) needs the bound `E: ErrorType`: the classification is chosen at compile time, and
/// without the bound it could only be the type's name, so the attribute refuses it.
///
/// The function keeps its signature and behaviour: it compiles under the attribute exactly
/// when it compiles without it (`impl Trait`, `-> !`, coercing `return`s in `async fn`,
/// `#[track_caller]`, `#[async_trait]` methods), and the attribute's own locals are hygienic.
///
/// # Example
///
/// ```
/// use mcp_gateway_metrics::{testing::TestMeter, tool_call, ErrorType};
///
/// #[derive(Debug, ErrorType)]
/// enum GatewayError {
///     UpstreamUnavailable,
/// }
///
/// #[tool_call(project = "p1")]
/// fn call_tool(server_name: &str, tool_name: &str, up: bool) -> Result<u32, GatewayError> {
///     if up { Ok(1) } else { Err(GatewayError::UpstreamUnavailable) }
/// }
///
/// let meter = TestMeter::new();
/// call_tool("github", "search", true).unwrap();
/// call_tool("github", "search", false).unwrap_err();
/// let github = [("server_name", "github"), ("tool_name", "search")];
/// assert_eq!(meter.counter("enkrypt_tool_calls_total", &github), 2);
/// assert_eq!(meter.counter("enkrypt_tool_call_success_total", &github), 1);
/// assert_eq!(
///     meter.counter("enkrypt_tool_call_failure_total", &[("error_type", "upstream_unavailable")]),
///     1
/// );
/// ```
#[doc(inline)]
pub use mcp_gateway_metrics_macros::tool_call;

/// Records a guardrail check: the guardrail API request and its duration, and the findings of
/// the verdict the function returns.
///
/// Records `enkrypt_api_requests_total{endpoint, status_code}` and
/// `enkrypt_api_request_duration_seconds{endpoint}`; for each violation of the verdict
/// `enkrypt_guardrail_violations_total` and the input or output counter; failed output checks
/// (relevancy, adherence, hallucination); PII redactions; and, when the verdict blocks,
/// `enkrypt_tool_call_blocked_total{reason}` (once per blocked tool call).
///
/// # Arguments
///
/// | argument | value | default |
/// |---|---|---|
/// | `direction` | `input` or `output` (also as a string) | required |
/// | `endpoint` | the guardrail API path, a string literal (`"/guardrails/policy/detect"`) | required |
/// | `server`, `tool` | as for [`tool_call`](macro@crate::tool_call) | the parameters `server_name` / `tool_name` |
/// | `allow_unbounded_labels`, `crate` | as for `tool_call` | |
///
/// The function returns a [`Verdict`] (such as
/// [`GuardrailVerdict`]) or `Result<verdict, E>`; an `Err` records
/// the request with `E`'s status code. Dropped unfinished it records status 499, panicking
/// 500.
///
/// # Example
///
/// ```
/// use mcp_gateway_metrics::{guardrail_check, testing::TestMeter, GuardrailVerdict};
///
/// #[guardrail_check(direction = input, endpoint = "/guardrails/policy/detect")]
/// fn check(server_name: &str, tool_name: &str, text: &str) -> GuardrailVerdict {
///     let verdict = GuardrailVerdict::default();
///     if text.contains("ignore previous instructions") {
///         verdict.violation("injection_attack", "injection_detector").block("injection_attack")
///     } else {
///         verdict
///     }
/// }
///
/// let meter = TestMeter::new();
/// assert!(check("github", "search", "ignore previous instructions").is_blocked());
/// assert_eq!(meter.counter("enkrypt_api_requests_total", &[("status_code", "200")]), 1);
/// assert_eq!(meter.counter("enkrypt_input_guardrail_violations_total", &[]), 1);
/// assert_eq!(meter.counter("enkrypt_tool_call_blocked_total", &[("reason", "injection_attack")]), 1);
/// ```
#[doc(inline)]
pub use mcp_gateway_metrics_macros::guardrail_check;

/// Records a timeout-managed operation and, on an `async fn`, enforces its deadline.
///
/// Records every `enkrypt_timeout_*` metric with `operation_type`: the total, one of
/// successful / timed out / cancelled, the escalation level reached (warn at 80 % of the
/// timeout, timeout at 100 %, fail at 120 % for an observed overrun; a deadline cut-off is the
/// timeout level; a cancellation reaches none), the duration, and the in-flight gauge.
///
/// # Arguments
///
/// | argument | value | default |
/// |---|---|---|
/// | `operation` (alias `operation_type`) | `default`, `guardrail`, `auth`, `tool_execution`, `discovery`, `cache`, `connectivity` (a bare word or a string, like `direction` and `cache_type`) | `default` |
/// | `timeout` | a duration string (`"15s"`, `"500ms"`) | the operation type's configured timeout ([`ConfigBuilder::operation_timeout`](crate::ConfigBuilder::operation_timeout)) |
/// | `enforce` | `true` or `false` | `true` on `async fn` (cut off at the deadline: the function returns `Err(Timeout.into())`, so its error type needs `From<`[`Timeout`]`>`), and a synchronous function can only be observed |
/// | `crate` | a path | as for [`tool_call`](macro@crate::tool_call) |
///
/// The deadline is enforced even with the `instrument` feature off (nothing is recorded then).
/// Stacked with [`tool_call`](macro@crate::tool_call), in either order, a timed-out call is
/// one failure with `error_type="timeout"`.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use mcp_gateway_metrics::{testing::TestMeter, timeout_op, Timeout};
///
/// #[timeout_op(operation = "discovery", timeout = "50ms")]
/// async fn discover(work: Duration) -> Result<u8, Timeout> {
///     tokio::time::sleep(work).await;
///     Ok(3)
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let meter = TestMeter::new();
/// let meter = &meter;
/// meter.scope(async {
///     assert_eq!(discover(Duration::from_millis(1)).await.unwrap(), 3);
///     assert!(discover(Duration::from_secs(5)).await.is_err()); // cut off at 50 ms
/// }).await;
/// let discovery = [("operation_type", "discovery")];
/// assert_eq!(meter.counter("enkrypt_timeout_operations_total", &discovery), 2);
/// assert_eq!(meter.counter("enkrypt_timeout_operations_timed_out", &discovery), 1);
/// # });
/// ```
#[doc(inline)]
pub use mcp_gateway_metrics_macros::timeout_op;

/// Counts a cache lookup: the function returns an `Option`, `Some` is a hit
/// (`enkrypt_cache_hits_total`), `None` a miss (`enkrypt_cache_misses_total`).
///
/// # Arguments
///
/// | argument | value | default |
/// |---|---|---|
/// | `cache_type` | `tools`, `gateway_config` or `server_config` (also as a string) | required |
/// | `crate` | a path | as for [`tool_call`](macro@crate::tool_call) |
///
/// # Example
///
/// ```
/// use mcp_gateway_metrics::{cache_lookup, testing::TestMeter};
///
/// #[cache_lookup(cache_type = tools)]
/// fn cached_tools(server_name: &str) -> Option<Vec<String>> {
///     (server_name == "github").then(|| vec!["search".to_string()])
/// }
///
/// let meter = TestMeter::new();
/// cached_tools("github");
/// cached_tools("jira");
/// assert_eq!(meter.counter("enkrypt_cache_hits_total", &[("cache_type", "tools")]), 1);
/// assert_eq!(meter.counter("enkrypt_cache_misses_total", &[("cache_type", "tools")]), 1);
/// ```
#[doc(inline)]
pub use mcp_gateway_metrics_macros::cache_lookup;

/// Counts an authentication: the function returns a `Result`, `Ok` is
/// `enkrypt_auth_success_total{auth_provider, project_id}`, `Err(e)` is
/// `enkrypt_auth_failure_total{auth_provider, failure_reason}` with `e`'s `error_type`.
///
/// # Arguments
///
/// | argument | value | default |
/// |---|---|---|
/// | `provider` | the `auth_provider` label, a string literal (`"api_key"`) | required |
/// | `project` (alias `project_id`) | as for [`tool_call`](macro@crate::tool_call) | the parameter `project_id`, else the request context's |
/// | `allow_unbounded_labels`, `crate` | as for `tool_call` | |
///
/// # Example
///
/// ```
/// use mcp_gateway_metrics::{auth_check, testing::TestMeter, ErrorType};
///
/// #[derive(Debug, ErrorType)]
/// enum AuthError { InvalidKey }
///
/// #[auth_check(provider = "api_key")]
/// fn authenticate(project_id: &str, key: &str) -> Result<(), AuthError> {
///     if key == "secret" { Ok(()) } else { Err(AuthError::InvalidKey) }
/// }
///
/// let meter = TestMeter::new();
/// authenticate("p1", "secret").unwrap();
/// authenticate("p1", "guess").unwrap_err();
/// assert_eq!(meter.counter("enkrypt_auth_success_total", &[("project_id", "p1")]), 1);
/// assert_eq!(meter.counter("enkrypt_auth_failure_total", &[("failure_reason", "invalid_key")]), 1);
/// ```
#[doc(inline)]
pub use mcp_gateway_metrics_macros::auth_check;
