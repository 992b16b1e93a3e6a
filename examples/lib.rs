//! Runnable programs built with `metrics-runtime`:
//!
//! - `quickstart.rs`: a little of every metric family, served on `/metrics`;
//! - `gateway.rs` and the [`gateway`] module: a real MCP gateway.

pub mod gateway;
