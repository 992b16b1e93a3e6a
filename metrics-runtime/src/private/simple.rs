//! The small attributes: `#[cache_lookup]` and `#[auth_check]`.

use crate::context;
use crate::labels::CacheType;
use crate::record::{self, Outcome};

use super::Classified;

/// What a cache lookup returns: `Option`, where `Some` is a hit and `None` a miss.
#[diagnostic::on_unimplemented(
    message = "`#[cache_lookup]` needs a function that returns `Option<_>`, not `{Self}`",
    label = "Some counts as a hit, None as a miss"
)]
pub trait CacheResult {
    /// Whether the lookup hit.
    fn hit(&self) -> bool;
}

impl<T> CacheResult for Option<T> {
    fn hit(&self) -> bool {
        self.is_some()
    }
}

/// Counts the lookup `value` stands for.
#[inline]
pub fn cache_lookup_finish<T: CacheResult + ?Sized>(cache_type: CacheType, value: &T) {
    record::cache_lookup(cache_type, value.hit());
}

/// What an authentication returns: `Result`, where `Ok` is a success and `Err` a failure.
#[diagnostic::on_unimplemented(
    message = "`#[auth_check]` needs a function that returns `Result<_, _>`, not `{Self}`",
    label = "Ok counts as a success, Err as a failure"
)]
pub trait AuthResult {
    /// Whether it succeeded.
    fn succeeded(&self) -> bool;
}

impl<T, E> AuthResult for Result<T, E> {
    fn succeeded(&self) -> bool {
        self.is_ok()
    }
}

/// Counts the authentication: success with the project (given, else the request context's,
/// else `unknown`), or failure with the error's `error_type` as `failure_reason`.
pub fn auth_finish<T: AuthResult + ?Sized>(
    provider: &str,
    project: Option<&str>,
    value: &T,
    classified: Classified,
) {
    if value.succeeded() {
        match project {
            Some(p) => record::auth_success(provider, p),
            None => context::with_current(|c| {
                record::auth_success(provider, c.map_or("unknown", |c| c.project_id()))
            }),
        }
        return;
    }
    let reason = match classified.outcome {
        Outcome::Failure { error_type } | Outcome::Crash { error_type } => error_type,
        Outcome::Blocked { reason } => reason,
        Outcome::Success => "unknown",
    };
    record::auth_failure(provider, reason);
}
