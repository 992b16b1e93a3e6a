//! A real MCP gateway built with the framework: it serves MCP over streamable HTTP and stdio,
//! authenticates clients, discovers and caches upstream tools, runs guardrails around every
//! tool call and forwards calls to upstream MCP servers. Every function that does one of
//! those things carries the framework's attributes, so all 32 metrics come from real code
//! paths.

pub mod auth;
pub mod cache;
pub mod config;
pub mod demo_servers;
pub mod disconnect;
pub mod error;
pub mod guardrails;
pub mod server;
pub mod sli;
pub mod upstream;
pub mod workload;
