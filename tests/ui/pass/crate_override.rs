//! `crate = path` for a runtime re-exported under another name.

mod telemetry {
    pub use mcp_gateway_metrics as runtime;
}

use mcp_gateway_metrics::tool_call;

#[tool_call(server = "s", tool = "t", crate = telemetry::runtime)]
fn call() -> u8 {
    1
}

fn main() {
    let meter = mcp_gateway_metrics::testing::TestMeter::new();
    assert_eq!(call(), 1);
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &[]), 1);
}
