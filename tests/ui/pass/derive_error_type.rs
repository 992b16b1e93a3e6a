//! `#[derive(ErrorType)]`: names, statuses, blocked and transparent variants, generics.

use mcp_gateway_metrics::{ErrorType, OperationType, Timeout};

#[derive(Debug, ErrorType)]
enum Blocked {
    #[error_type(blocked, status = 403)]
    InjectionAttack,
    #[error_type(blocked)]
    Pii,
}

#[derive(Debug, ErrorType)]
enum GatewayError<E> {
    UpstreamHTTPError { status: u16 },
    #[error_type("bad_arguments", status = 400)]
    InvalidArguments(String),
    #[error_type(name = "upstream_io")]
    Io(E),
    #[error_type(transparent)]
    Blocked(Blocked),
    #[error_type(transparent)]
    Timeout { inner: Timeout },
}

fn main() {
    type E = GatewayError<std::io::Error>;
    assert_eq!(E::UpstreamHTTPError { status: 502 }.error_type(), "upstream_http_error");
    assert_eq!(E::InvalidArguments("x".into()).status_code(), 400);
    assert_eq!(E::Io(std::io::Error::other("x")).error_type(), "upstream_io");
    let blocked = E::Blocked(Blocked::InjectionAttack);
    assert_eq!(blocked.error_type(), "injection_attack");
    assert_eq!(blocked.blocked_reason(), Some("injection_attack"));
    assert_eq!(blocked.status_code(), 403);
    assert_eq!(E::Blocked(Blocked::Pii).status_code(), 500);
    let t = E::Timeout { inner: Timeout::new(OperationType::Auth, std::time::Duration::from_secs(1)) };
    assert_eq!((t.error_type(), t.status_code(), t.blocked_reason()), ("timeout", 504, None));
}
