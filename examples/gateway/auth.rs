//! Authentication by gateway key, with project and user picked by request headers among the
//! key's configured ones, and the
//! session and user gauges.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http::HeaderMap;
use mcp_gateway_metrics::auth_check;
use mcp_gateway_metrics::record::{self, ActiveGuard};

use super::error::{AuthFailure, GatewayError};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub project_id: String,
    pub user_id: String,
}

/// A header's value, or "" when absent.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Checks the `x-gateway-key` header against the configured key: absent (or empty) is a
/// missing key, anything else that differs (non-ASCII bytes included) an invalid one.
pub fn check_key(gateway_key: &str, headers: &HeaderMap) -> Result<(), AuthFailure> {
    match headers.get("x-gateway-key").map(|v| v.as_bytes()) {
        None | Some([]) => Err(AuthFailure::MissingKey),
        Some(key) if key == gateway_key.as_bytes() => Ok(()),
        Some(_) => Err(AuthFailure::InvalidKey),
    }
}

/// Checks the `x-gateway-key` header and reads `x-project-id` and `x-user-id`, which must be
/// among the key's configured `projects` and `users` (unless a list is empty: then any value
/// is taken, and the metrics bound how many distinct ones they keep). An in-memory comparison: nothing
/// here can time out, so no `#[timeout_op]` (a key checked against a remote service would
/// have one).
#[auth_check(provider = "api_key", project = header(headers, "x-project-id"))]
pub fn authenticate(
    gateway_key: &str,
    projects: &[String],
    users: &[String],
    headers: &HeaderMap,
) -> Result<Identity, GatewayError> {
    check_key(gateway_key, headers).map_err(GatewayError::Auth)?;
    let project_id = header(headers, "x-project-id");
    if project_id.is_empty() {
        return Err(GatewayError::Auth(AuthFailure::MissingProject));
    }
    if !projects.is_empty() && !projects.iter().any(|p| p == project_id) {
        return Err(GatewayError::Auth(AuthFailure::UnknownProject));
    }
    let user_id = match header(headers, "x-user-id") {
        "" => "anonymous",
        user => user,
    };
    if !users.is_empty() && !users.iter().any(|u| u == user_id) {
        return Err(GatewayError::Auth(AuthFailure::UnknownUser));
    }
    Ok(Identity {
        project_id: project_id.to_owned(),
        user_id: user_id.to_owned(),
    })
}

/// Users with at least one open session: `enkrypt_active_users` counts them.
#[derive(Debug, Clone, Default)]
pub struct Users {
    active: Arc<Mutex<HashMap<String, (usize, ActiveGuard)>>>,
}

impl Users {
    /// Marks `user` active until the returned lease is dropped (its last session ended).
    pub fn lease(&self, user: &str) -> UserLease {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        active
            .entry(user.to_owned())
            .or_insert_with(|| (0, record::user_active()))
            .0 += 1;
        UserLease {
            users: self.clone(),
            user: user.to_owned(),
        }
    }
}

/// One session's hold on its user.
#[derive(Debug)]
pub struct UserLease {
    users: Users,
    user: String,
}

impl Drop for UserLease {
    fn drop(&mut self) {
        let mut active = self.users.active.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = active.get_mut(&self.user) {
            entry.0 -= 1;
            if entry.0 == 0 {
                active.remove(&self.user); // drops the ActiveGuard: the gauge goes down
            }
        }
    }
}
