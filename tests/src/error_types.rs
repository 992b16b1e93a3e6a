//! An error type with more variants than a label set keeps bound failure counters for (4),
//! for tests of the failure counters past the bound ones.

/// Six error types, each labelled by its name in snake case.
#[derive(Debug, Clone, Copy, mcp_gateway_metrics::ErrorType)]
pub enum SixErrors {
    First,
    Second,
    Third,
    Fourth,
    Fifth,
    Sixth,
}

impl SixErrors {
    /// Every variant with its `error_type` label, in declaration order.
    pub const ALL: [(SixErrors, &'static str); 6] = [
        (SixErrors::First, "first"),
        (SixErrors::Second, "second"),
        (SixErrors::Third, "third"),
        (SixErrors::Fourth, "fourth"),
        (SixErrors::Fifth, "fifth"),
        (SixErrors::Sixth, "sixth"),
    ];
}
