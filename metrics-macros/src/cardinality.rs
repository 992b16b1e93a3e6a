//! The reference's cardinality rule at compile time: a label value must not come from an
//! unbounded identifier such as a request id, a user id, an email or a timestamp.

use syn::visit::Visit;
use syn::{Expr, Ident};

/// Identifier fragments that name per-request or per-person values.
const UNBOUNDED: &[&str] = &[
    "request_id",
    "requestid",
    "req_id",
    "user_id",
    "userid",
    "email",
    "timestamp",
    "uuid",
    "session_id",
    "trace_id",
    "span_id",
    "ip_addr",
    "ip_address",
];

fn is_unbounded(ident: &Ident) -> bool {
    let name = ident.to_string().to_ascii_lowercase();
    UNBOUNDED.iter().any(|u| name.contains(u)) || matches!(name.as_str(), "ts" | "now" | "id")
}

/// Fails on the first unbounded identifier in `expr`, pointing at it.
pub fn check(expr: &Expr, key: &str) -> syn::Result<()> {
    struct Find<'a>(Option<&'a Ident>);
    impl<'a> Visit<'a> for Find<'a> {
        fn visit_ident(&mut self, ident: &'a Ident) {
            if self.0.is_none() && is_unbounded(ident) {
                self.0 = Some(ident);
            }
        }
    }
    let mut find = Find(None);
    find.visit_expr(expr);
    match find.0 {
        None => Ok(()),
        Some(ident) => Err(syn::Error::new(
            ident.span(),
            format!(
                "`{ident}` looks unbounded (a request id, user id, email or timestamp): as the \
                 `{key}` label, every distinct value would become a new series. Use a bounded \
                 value, or add `allow_unbounded_labels` if this one is bounded"
            ),
        )),
    }
}
