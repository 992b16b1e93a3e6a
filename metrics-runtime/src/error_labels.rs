//! [`ErrorType`] for the error types applications return without defining their own:
//! `std::io::Error` (by its kind), boxed `dyn Error`s (by what they hold) and, with the
//! `anyhow` feature, `anyhow::Error`. Their labels are fixed strings, the same with every
//! compiler.
//!
//! | error | `error_type` | status | crash |
//! |---|---|---|---|
//! | `io::Error` | its `ErrorKind` in snake_case (`not_found`, `connection_refused`, `timed_out`, ...); `io_error` for kinds newer than Rust 1.80 | 404 not found, 403 permission denied, 400 invalid input or data, 504 timed out, else 500 | connection reset or aborted, not connected, broken pipe, unexpected EOF |
//! | `Box<dyn Error [+ Send [+ Sync]]>` | the first [`Timeout`] or `io::Error` in its source chain, classified as above; else `boxed_error` | as above; else 500 | as above |
//! | `anyhow::Error` (feature `anyhow`) | the same over its chain; else `anyhow_error` | | |
//!
//! ```
//! use mcp_gateway_metrics::ErrorType;
//!
//! let e = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
//! assert_eq!(e.error_type(), "connection_refused");
//! let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
//! assert_eq!(boxed.error_type(), "connection_refused");
//! let other: Box<dyn std::error::Error + Send + Sync> = "no such tool".into();
//! assert_eq!(other.error_type(), "boxed_error");
//! ```

use std::error::Error;
use std::io::ErrorKind;

use crate::error_type::{ErrorType, Timeout};

/// The label of a boxed error that is neither a [`Timeout`] nor an `io::Error`.
pub const BOXED_ERROR: &str = "boxed_error";
/// The label of an `io::Error` whose kind this crate does not name.
pub const IO_ERROR: &str = "io_error";

impl ErrorType for std::io::Error {
    fn error_type(&self) -> &'static str {
        kind_label(self.kind())
    }

    fn status_code(&self) -> u16 {
        match self.kind() {
            ErrorKind::NotFound => 404,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::InvalidInput | ErrorKind::InvalidData => 400,
            ErrorKind::TimedOut => 504,
            _ => 500,
        }
    }

    fn is_crash(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
        )
    }
}

fn kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "not_found",
        ErrorKind::PermissionDenied => "permission_denied",
        ErrorKind::ConnectionRefused => "connection_refused",
        ErrorKind::ConnectionReset => "connection_reset",
        ErrorKind::ConnectionAborted => "connection_aborted",
        ErrorKind::NotConnected => "not_connected",
        ErrorKind::AddrInUse => "addr_in_use",
        ErrorKind::AddrNotAvailable => "addr_not_available",
        ErrorKind::BrokenPipe => "broken_pipe",
        ErrorKind::AlreadyExists => "already_exists",
        ErrorKind::WouldBlock => "would_block",
        ErrorKind::InvalidInput => "invalid_input",
        ErrorKind::InvalidData => "invalid_data",
        ErrorKind::TimedOut => "timed_out",
        ErrorKind::WriteZero => "write_zero",
        ErrorKind::Interrupted => "interrupted",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::UnexpectedEof => "unexpected_eof",
        ErrorKind::OutOfMemory => "out_of_memory",
        ErrorKind::Other => "other",
        _ => IO_ERROR,
    }
}

/// What a chain of errors is, as far as the labels go: its first [`Timeout`] or `io::Error`.
enum Known<'a> {
    Timeout(&'a Timeout),
    Io(&'a std::io::Error),
    Neither,
}

fn known<'a>(error: &'a (dyn Error + 'static)) -> Known<'a> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<Timeout>() {
            return Known::Timeout(t);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Known::Io(io);
        }
        next = e.source();
    }
    Known::Neither
}

fn classify(error: &(dyn Error + 'static), otherwise: &'static str) -> (&'static str, u16, bool) {
    match known(error) {
        Known::Timeout(t) => (t.error_type(), t.status_code(), t.is_crash()),
        Known::Io(io) => (io.error_type(), io.status_code(), io.is_crash()),
        Known::Neither => (otherwise, 500, false),
    }
}

macro_rules! boxed {
    ($($ty:ty),*) => {$(
        impl ErrorType for $ty {
            fn error_type(&self) -> &'static str {
                classify(&**self, BOXED_ERROR).0
            }
            fn status_code(&self) -> u16 {
                classify(&**self, BOXED_ERROR).1
            }
            fn is_crash(&self) -> bool {
                classify(&**self, BOXED_ERROR).2
            }
        }
    )*};
}

boxed!(
    Box<dyn Error + 'static>,
    Box<dyn Error + Send + 'static>,
    Box<dyn Error + Send + Sync + 'static>
);

/// The label of an `anyhow::Error` that holds neither a [`Timeout`] nor an `io::Error`.
#[cfg(feature = "anyhow")]
pub const ANYHOW_ERROR: &str = "anyhow_error";

#[cfg(feature = "anyhow")]
impl ErrorType for anyhow::Error {
    fn error_type(&self) -> &'static str {
        classify(self.as_ref(), ANYHOW_ERROR).0
    }
    fn status_code(&self) -> u16 {
        classify(self.as_ref(), ANYHOW_ERROR).1
    }
    fn is_crash(&self) -> bool {
        classify(self.as_ref(), ANYHOW_ERROR).2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::OperationType;
    use std::time::Duration;

    #[derive(Debug)]
    struct Wrapper(std::io::Error);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }
    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn io_errors_are_labelled_by_kind() {
        let e = std::io::Error::from(ErrorKind::NotFound);
        assert_eq!(
            (e.error_type(), e.status_code(), e.is_crash()),
            ("not_found", 404, false)
        );
        let e = std::io::Error::from(ErrorKind::BrokenPipe);
        assert_eq!((e.error_type(), e.is_crash()), ("broken_pipe", true));
        assert_eq!(std::io::Error::other("x").error_type(), "other");
    }

    #[test]
    fn boxed_errors_are_labelled_by_what_they_hold() {
        let timeout = Timeout::new(OperationType::Auth, Duration::from_secs(1));
        let b: Box<dyn Error + Send + Sync> = Box::new(timeout);
        assert_eq!((b.error_type(), b.status_code()), ("timeout", 504));
        let b: Box<dyn Error> = Box::new(Wrapper(ErrorKind::TimedOut.into()));
        assert_eq!((b.error_type(), b.status_code()), ("timed_out", 504));
        let b: Box<dyn Error + Send> = Box::new(std::fmt::Error);
        assert_eq!((b.error_type(), b.status_code()), (BOXED_ERROR, 500));
    }
}
