//! The small attributes: `#[cache_lookup]` and `#[auth]`.

use crate::context;
use crate::labels::CacheType;
use crate::record::{self, Outcome};

use super::Classified;

/// Wraps a cache lookup's return value.
#[derive(Debug)]
pub struct CacheClassify<'a, T: ?Sized>(pub &'a T);

/// A cache lookup returns `Option`: `Some` is a hit, `None` a miss.
#[diagnostic::on_unimplemented(
    message = "`#[cache_lookup]` needs a function that returns `Option<_>` (Some = hit, None = miss)"
)]
pub trait ViaCacheOption {
    /// Whether the lookup hit.
    fn hit(&self) -> bool;
}

impl<T> ViaCacheOption for CacheClassify<'_, Option<T>> {
    fn hit(&self) -> bool {
        self.0.is_some()
    }
}

/// Counts the lookup.
#[inline]
pub fn cache_lookup_finish(cache_type: CacheType, hit: bool) {
    record::cache_lookup(cache_type, hit);
}

/// Wraps an authentication's return value.
#[derive(Debug)]
pub struct AuthClassify<'a, T: ?Sized>(pub &'a T);

/// An authentication returns `Result`: `Ok` is a success, `Err` a failure.
#[diagnostic::on_unimplemented(
    message = "`#[auth]` needs a function that returns `Result<_, _>` (Ok = success, Err = failure)"
)]
pub trait ViaAuthResult {
    /// Whether it succeeded.
    fn succeeded(&self) -> bool;
}

impl<T, E> ViaAuthResult for AuthClassify<'_, Result<T, E>> {
    fn succeeded(&self) -> bool {
        self.0.is_ok()
    }
}

/// Counts the authentication: success with the project (given, else the request context's,
/// else `unknown`), or failure with the error's `error_type` as `failure_reason`.
pub fn auth_finish(provider: &str, project: Option<&str>, succeeded: bool, classified: Classified) {
    if succeeded {
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
