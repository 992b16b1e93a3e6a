//! What the rmcp wrappers cost over a bare rmcp call, in one run
//! (`cargo bench -p benches --bench rmcp`): a client and a server in-process over an
//! in-memory stream on one current-thread runtime, with a pipeline installed.
//!
//! - `rmcp/bare`: a plain client calling a plain server;
//! - `rmcp/metered_client`: the client wrapped in `MeteredClient`;
//! - `rmcp/metered_server`: the server wrapped in `MeteredServer`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mcp_gateway_metrics::mcp::{MeteredClient, MeteredServer};
use rmcp::model::*;
use rmcp::service::{RequestContext, RoleClient, RoleServer, RunningService};
use rmcp::{ErrorData, ServerHandler, ServiceExt};

/// One tool that answers at once, so that the call path dominates.
struct Echo;

impl ServerHandler for Echo {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        (name == "echo").then(|| Tool::new("echo", "Echoes", JsonObject::new()))
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![Tool::new(
            "echo",
            "Echoes",
            JsonObject::new(),
        )]))
    }

    async fn call_tool(
        &self,
        _: CallToolRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Ok(CallToolResult::success(vec![ContentBlock::text("ok")]).into())
    }
}

/// A client of `server`, both served on the current runtime.
async fn connect<S: rmcp::Service<RoleServer>>(server: S) -> RunningService<RoleClient, ()> {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_io).await.expect("in-process client")
}

fn rmcp_calls(c: &mut Criterion) {
    let _metrics = mcp_gateway_metrics::Config::builder()
        .serve_prometheus(false)
        .install()
        .expect("the pipeline installs");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let params = || CallToolRequestParams::new("echo");

    let bare = rt.block_on(connect(Echo));
    let metered_server = rt.block_on(connect(MeteredServer::new("echo-server", Echo)));
    let metered_client = MeteredClient::new("echo-server", bare.peer().clone());
    rt.block_on(metered_client.list_tools()).unwrap();

    let mut group = c.benchmark_group("rmcp");
    group.bench_function("bare", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(bare.call_tool(params()).await.unwrap()) })
    });
    group.bench_function("metered_client", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(metered_client.call_tool(params()).await.unwrap()) })
    });
    group.bench_function("metered_server", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(metered_server.call_tool(params()).await.unwrap()) })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = rmcp_calls
}
criterion_main!(benches);
