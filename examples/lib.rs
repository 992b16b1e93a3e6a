//! Runnable programs built with `mcp-gateway-metrics`:
//!
//! - `quickstart.rs`: a little of every metric family, served on `/metrics`;
//! - `gateway.rs` and the [`gateway`] module: a real MCP gateway;
//! - `mcp_server.rs`: a small MCP server metered by `mcp::MeteredServer` alone.

pub mod gateway;
