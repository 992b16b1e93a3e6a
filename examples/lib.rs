//! Runnable programs built with `mcp-gateway-metrics`:
//!
//! - `quickstart.rs`: a little of every metric family, served on `/metrics`;
//! - `gateway.rs` and the [`gateway`] module: a real MCP gateway.

pub mod gateway;
