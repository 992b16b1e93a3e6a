//! `crate = path` for a runtime re-exported under another name.

mod telemetry {
    pub use metrics_runtime as runtime;
}

use metrics_runtime::tool_call;

#[tool_call(server = "s", tool = "t", crate = telemetry::runtime)]
fn call() -> u8 {
    1
}

fn main() {
    let meter = metrics_runtime::testing::TestMeter::new();
    assert_eq!(call(), 1);
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &[]), 1);
}
