//! Everything a gateway call can fail with, classified for the metrics (`ErrorType`) and
//! turned into a clear MCP error for the client.

use mcp_gateway_metrics::{ErrorType, Timeout};
use rmcp::ErrorData;

/// What goes wrong in the gateway. Each variant is one bounded `error_type` label value.
#[derive(Debug, ErrorType)]
pub enum GatewayError {
    /// No server of that name in the configuration.
    #[error_type(status = 404)]
    UnknownServer(String),
    /// The server has no tool of that name.
    #[error_type(status = 404)]
    UnknownTool { server: String, tool: String },
    /// Arguments that do not fit the tool.
    #[error_type("invalid_arguments", status = 400)]
    InvalidArguments(String),
    /// The upstream server answered with an error.
    UpstreamError(String),
    /// The upstream server went away mid-call (crashed, closed its transport): a crash, so it
    /// also counts in `enkrypt_tool_call_error_counter`.
    #[error_type(crash)]
    UpstreamUnavailable(String),
    /// A guardrail blocked the request or the answer.
    #[error_type(transparent)]
    Blocked(BlockReason),
    /// Missing or wrong credentials.
    #[error_type(transparent)]
    Auth(AuthFailure),
    /// The operation ran out of time.
    #[error_type(transparent)]
    Timeout(Timeout),
}

/// Why a guardrail blocked a call: the violation type that blocked it.
#[derive(Debug, Clone, PartialEq, Eq, ErrorType)]
pub enum BlockReason {
    #[error_type(blocked, status = 403)]
    InjectionAttack,
    #[error_type(blocked, status = 403)]
    Pii,
    #[error_type(blocked, status = 403)]
    Toxicity,
    #[error_type(blocked, status = 403)]
    KeywordDetector,
    #[error_type(blocked, status = 403)]
    PolicyViolation,
    #[error_type(blocked, status = 403)]
    Relevancy,
    #[error_type(blocked, status = 403)]
    Adherence,
    #[error_type(blocked, status = 403)]
    Hallucination,
}

impl BlockReason {
    /// The violation type, as a label value.
    pub fn as_str(&self) -> &'static str {
        mcp_gateway_metrics::ErrorType::error_type(self)
    }

    /// The reason for a violation type name, if it is one that can block.
    pub fn from_violation(violation_type: &str) -> Option<BlockReason> {
        Some(match violation_type {
            "injection_attack" => BlockReason::InjectionAttack,
            "pii" => BlockReason::Pii,
            "toxicity" => BlockReason::Toxicity,
            "keyword_detector" => BlockReason::KeywordDetector,
            "policy_violation" => BlockReason::PolicyViolation,
            "relevancy" => BlockReason::Relevancy,
            "adherence" => BlockReason::Adherence,
            "hallucination" => BlockReason::Hallucination,
            _ => return None,
        })
    }
}

/// Why authentication failed: the `failure_reason` label.
#[derive(Debug, Clone, PartialEq, Eq, ErrorType)]
pub enum AuthFailure {
    #[error_type(status = 401)]
    MissingKey,
    #[error_type(status = 401)]
    InvalidKey,
    #[error_type(status = 400)]
    MissingProject,
    /// A project the key may not act for.
    #[error_type(status = 403)]
    UnknownProject,
    /// A user the key may not act for.
    #[error_type(status = 403)]
    UnknownUser,
}

impl From<Timeout> for GatewayError {
    fn from(t: Timeout) -> Self {
        GatewayError::Timeout(t)
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GatewayError::UnknownServer(s) => write!(
                f,
                "unknown server {s:?}; call enkrypt_list_all_servers to see the configured ones"
            ),
            GatewayError::UnknownTool { server, tool } => write!(
                f,
                "server {server:?} has no tool {tool:?}; call enkrypt_discover_all_tools to list them"
            ),
            GatewayError::InvalidArguments(m) => write!(f, "invalid arguments: {m}"),
            GatewayError::UpstreamError(m) => write!(f, "the upstream server failed: {m}"),
            GatewayError::UpstreamUnavailable(m) => {
                write!(f, "the upstream server is unavailable: {m}")
            }
            GatewayError::Blocked(r) => write!(f, "blocked by the guardrails: {}", r.as_str()),
            GatewayError::Auth(AuthFailure::MissingKey) => {
                f.write_str("missing gateway key: send it in the x-gateway-key header")
            }
            GatewayError::Auth(AuthFailure::InvalidKey) => f.write_str("invalid gateway key"),
            GatewayError::Auth(AuthFailure::MissingProject) => {
                f.write_str("missing project: send it in the x-project-id header")
            }
            GatewayError::Auth(AuthFailure::UnknownProject) => f.write_str(
                "unknown project: x-project-id must be one of the key's configured projects",
            ),
            GatewayError::Auth(AuthFailure::UnknownUser) => f.write_str(
                "unknown user: x-user-id must be one of the key's configured users",
            ),
            GatewayError::Timeout(t) => write!(f, "{t}"),
        }
    }
}

impl std::error::Error for GatewayError {}

impl From<GatewayError> for ErrorData {
    fn from(e: GatewayError) -> Self {
        let message = e.to_string();
        match e {
            GatewayError::UnknownServer(_)
            | GatewayError::UnknownTool { .. }
            | GatewayError::InvalidArguments(_) => ErrorData::invalid_params(message, None),
            GatewayError::Auth(_) => ErrorData::invalid_request(message, None),
            _ => ErrorData::internal_error(message, None),
        }
    }
}
