//! Helpers shared by the workspace tests.

pub mod exposition;
pub mod gateway_fixture;
pub mod gateway_harness;
pub mod otlp_receiver;
pub mod prometheus;
pub mod tracing_capture;

// README's Rust examples compile and run as doctests of this crate.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
