//! Bounds on label values, applied before they reach the SDK, so that a flood of values from
//! requests collapses into one documented value per key while the aggregates by the other
//! labels (per `server_name` and `tool_name`) stay exact. The SDK's own cardinality limit,
//! whose overflow series drops every label, stays the last resort.
//!
//! - Every value longer than [`DEFAULT_MAX_LABEL_LENGTH`] bytes (configurable) is replaced by
//!   [`TOO_LONG`]: replaced, not truncated, so that long values cannot become new distinct
//!   values.
//! - The keys whose values come from requests ([`REQUEST_KEYS`]: `project_id`, `user_id`) admit
//!   at most [`DEFAULT_LABEL_VALUE_BUDGET`] distinct values each (configurable) per pipeline;
//!   any further value is recorded as [`OTHER`].
//!
//! The budget is checked where a label set is bound (once per label set and call site) and on
//! the unbound path, never on the bound hot path.

use std::collections::HashSet;
use std::sync::Mutex;

/// The value that replaces a label value longer than the configured maximum.
pub const TOO_LONG: &str = "_too_long";
/// The value that replaces a request-derived label value past its key's budget.
pub const OTHER: &str = "_other";
/// The default maximum length of a label value, in bytes.
pub const DEFAULT_MAX_LABEL_LENGTH: usize = 128;
/// The default number of distinct values each request-derived key admits.
pub const DEFAULT_LABEL_VALUE_BUDGET: usize = 100;
/// The label keys whose values come from requests, and so get a budget.
pub const REQUEST_KEYS: [&str; 2] = ["project_id", "user_id"];

/// `value`, or [`TOO_LONG`] when it is longer than `max_length` bytes. The two replacement
/// values stay themselves whatever the maximum, so that a value equal to a stored label value
/// is always admitted as that value (the label-set cache compares raw values with stored ones).
#[inline]
pub(crate) fn within(value: &str, max_length: usize) -> &str {
    if value.len() > max_length && value != TOO_LONG && value != OTHER {
        TOO_LONG
    } else {
        value
    }
}

/// The bounds of one pipeline.
#[derive(Debug)]
pub(crate) struct LabelBounds {
    max_length: usize,
    budget: usize,
    /// Admitted values, per request key (the order of [`REQUEST_KEYS`]).
    admitted: [Mutex<HashSet<Box<str>>>; REQUEST_KEYS.len()],
}

impl LabelBounds {
    pub(crate) fn new(max_length: usize, budget: usize) -> Self {
        LabelBounds {
            max_length,
            budget,
            admitted: Default::default(),
        }
    }

    /// `value`, or [`TOO_LONG`]: cheap enough for every call.
    #[inline]
    pub(crate) fn length<'a>(&self, value: &'a str) -> &'a str {
        within(value, self.max_length)
    }

    /// `value` as it may be recorded under `key`: length-bounded, and within the key's budget
    /// if it comes from requests.
    pub(crate) fn admit<'a>(&self, key: &str, value: &'a str) -> &'a str {
        let value = self.length(value);
        let Some(i) = REQUEST_KEYS.iter().position(|k| *k == key) else {
            return value;
        };
        if value == TOO_LONG || value == OTHER {
            return value;
        }
        let mut admitted = self.admitted[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if admitted.contains(value) {
            value
        } else if admitted.len() < self.budget {
            admitted.insert(value.into());
            value
        } else {
            OTHER
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_replaced_and_request_keys_have_a_budget() {
        let bounds = LabelBounds::new(8, 2);
        assert_eq!(bounds.admit("server_name", "github"), "github");
        assert_eq!(bounds.admit("server_name", "a-very-long-name"), TOO_LONG);
        assert_eq!(bounds.admit("project_id", "p1"), "p1");
        assert_eq!(bounds.admit("project_id", "p2"), "p2");
        assert_eq!(bounds.admit("project_id", "p3"), OTHER);
        assert_eq!(
            bounds.admit("project_id", "p1"),
            "p1",
            "admitted stays admitted"
        );
        assert_eq!(
            bounds.admit("user_id", "u1"),
            "u1",
            "each key has its own budget"
        );
        assert_eq!(
            bounds.admit("server_name", "s3"),
            "s3",
            "other keys have none"
        );
    }

    #[test]
    fn the_replacement_values_are_never_replaced_themselves() {
        let bounds = LabelBounds::new(3, 1);
        assert_eq!(bounds.admit("server_name", OTHER), OTHER);
        assert_eq!(bounds.admit("server_name", TOO_LONG), TOO_LONG);
        assert_eq!(bounds.admit("project_id", OTHER), OTHER);
        assert_eq!(bounds.admit("project_id", "long"), TOO_LONG);
    }
}
