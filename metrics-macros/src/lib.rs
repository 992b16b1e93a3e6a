//! Attribute macros for `metrics-runtime`.
//!
//! This crate is an implementation detail: depend on `metrics-runtime` and use the macros it
//! re-exports. The macros (`#[tool_call]`, `#[guardrail_check]`, `#[timeout_op]`) parse their
//! arguments here and expand to calls into `::metrics_runtime::__private`, so all recording
//! logic lives (and is tested) in the runtime crate.
