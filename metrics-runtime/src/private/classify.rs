//! How a function's return value becomes an outcome, chosen at compile time by autoref
//! specialisation: `Result<T, E: ErrorType>` is classified by the trait, any other `Result` by
//! its error type's name, and every other value counts as success.
//!
//! Expansions call `(&&&Classify(&value, name)).classify()` with the three traits in scope,
//! where `name` is the error type's name as the function's signature writes it, in
//! snake_case (`Some("upstream_error")` for `Result<T, UpstreamError>`), when it does.

use crate::error_type::{type_name_label, ErrorType};
use crate::record::Outcome;

/// What a value says about the call that returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified {
    /// The tool-call outcome.
    pub outcome: Outcome<'static>,
    /// The status code a guardrail-API call reports (200 for success).
    pub status: u16,
}

impl Classified {
    const SUCCESS: Classified = Classified::of(Outcome::Success);

    /// A tool-call outcome decided elsewhere (the rmcp wrappers), with status 200.
    pub(crate) const fn of(outcome: Outcome<'static>) -> Classified {
        Classified {
            outcome,
            status: 200,
        }
    }
}

/// Wraps a reference to the value being classified, and the label an error without an
/// [`ErrorType`] impl gets when the signature names its type (stable whatever the compiler;
/// otherwise the last segment of `std::any::type_name`).
#[derive(Debug)]
pub struct Classify<'a, T: ?Sized>(pub &'a T, pub Option<&'static str>);

/// First choice: errors with an [`ErrorType`] impl.
pub trait ViaErrorType {
    /// The classification.
    fn classify(&self) -> Classified;
}

impl<T, E: ErrorType> ViaErrorType for &&Classify<'_, Result<T, E>> {
    fn classify(&self) -> Classified {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(e) => Classified {
                outcome: match e.blocked_reason() {
                    Some(reason) => Outcome::Blocked { reason },
                    None if e.is_crash() => Outcome::Crash {
                        error_type: e.error_type(),
                    },
                    None => Outcome::Failure {
                        error_type: e.error_type(),
                    },
                },
                status: e.status_code(),
            },
        }
    }
}

/// Second choice: any other `Result`, by the error type's name.
pub trait ViaTypeName {
    /// The classification.
    fn classify(&self) -> Classified;
}

impl<T, E> ViaTypeName for &Classify<'_, Result<T, E>> {
    fn classify(&self) -> Classified {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(_) => Classified {
                outcome: Outcome::Failure {
                    error_type: self.1.unwrap_or_else(type_name_label::<E>),
                },
                status: 500,
            },
        }
    }
}

/// Last choice: a value that is not a `Result` is a success.
pub trait ViaAnything {
    /// The classification.
    fn classify(&self) -> Classified;
}

impl<T: ?Sized> ViaAnything for Classify<'_, T> {
    fn classify(&self) -> Classified {
        Classified::SUCCESS
    }
}

#[cfg(test)]
#[allow(clippy::needless_borrow)] // the borrows choose the impl, as in the expansions
mod tests {
    use super::*;
    use crate::error_type::Timeout;
    use crate::labels::OperationType;
    use std::time::Duration;

    #[test]
    fn the_most_specific_classification_wins() {
        let timeout: Result<(), Timeout> = Err(Timeout::new(OperationType::Auth, Duration::ZERO));
        let c = (&&&Classify(&timeout, None)).classify();
        assert_eq!(
            c.outcome,
            Outcome::Failure {
                error_type: "timeout"
            }
        );
        assert_eq!(c.status, 504);

        struct Named;
        impl ErrorType for Named {
            fn error_type(&self) -> &'static str {
                "by_the_trait"
            }
        }
        let named: Result<(), Named> = Err(Named);
        let c = (&&&Classify(&named, None)).classify();
        assert_eq!(
            c.outcome,
            Outcome::Failure {
                error_type: "by_the_trait"
            }
        );

        struct Opaque;
        let opaque: Result<u8, Opaque> = Err(Opaque);
        let c = (&&&Classify(&opaque, None)).classify();
        assert_eq!(
            c.outcome,
            Outcome::Failure {
                error_type: "opaque"
            }
        );
        let c = (&&&Classify(&opaque, Some("as_written"))).classify();
        assert_eq!(
            c.outcome,
            Outcome::Failure {
                error_type: "as_written"
            }
        );

        let ok: Result<u8, Opaque> = Ok(1);
        assert_eq!(
            (&&&Classify(&ok, None)).classify().outcome,
            Outcome::Success
        );
        assert_eq!(
            (&&&Classify(&"plain value", None)).classify().outcome,
            Outcome::Success
        );
    }
}
