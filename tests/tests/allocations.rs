//! The recording hot path allocates nothing after warm-up.
//!
//! A counting global allocator (this test binary only) counts allocations made by the
//! measured thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use mcp_gateway_metrics::record::{
    self, Outcome, TimeoutOperation, TimeoutOutcome, ToolCallLabels,
};
use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{CacheType, Direction, OperationType, OutputCheck};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn recording_any_family_does_not_allocate_after_warm_up() {
    let meter = TestMeter::new();
    let labels = ToolCallLabels {
        server_name: "github",
        tool_name: "create_issue",
        project_id: "p1",
    };
    let warm_up = || {
        record::tool_call(&labels, Outcome::Success, Duration::from_millis(5));
        record::cache_lookup(CacheType::Tools, true);
        drop(record::session_started());
        TimeoutOperation::start(OperationType::Guardrail, None).finish(TimeoutOutcome::Completed);
        // The string-labelled families, through the per-metric caches.
        record::tool_call(
            &labels,
            Outcome::Failure {
                error_type: "upstream_error",
            },
            Duration::ZERO,
        );
        record::tool_call(&labels, Outcome::Blocked { reason: "pii" }, Duration::ZERO);
        record::list_all_servers("u1", "p1");
        record::servers_discovered("cfg", 2);
        record::guardrail_violation(Direction::Input, "pii", "github", "pii_detector");
        record::output_check_violation(OutputCheck::Relevancy, "github", "create_issue");
        record::pii_redactions("github", "email", 1);
        record::guardrail_api_request("/guardrails/pii", 200, Duration::from_millis(3));
        record::auth_success("api_key", "p1");
        record::auth_failure("api_key", "invalid_key");
    };
    warm_up();
    let n = allocations_in(|| {
        for _ in 0..1000 {
            warm_up();
        }
    });
    assert_eq!(n, 0, "{n} allocations in 1000 warm calls");
    // The values are all there.
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &[]), 3003);
    assert_eq!(meter.counter("enkrypt_tool_call_failure_total", &[]), 1001);
    assert_eq!(
        meter.counter("enkrypt_tool_call_blocked_total", &[("reason", "pii")]),
        1001
    );
    assert_eq!(
        meter.counter("enkrypt_api_requests_total", &[("status_code", "200")]),
        1001
    );
    assert_eq!(meter.counter("enkrypt_auth_failure_total", &[]), 1001);
    assert_eq!(meter.counter("enkrypt_tool_call_success_total", &[]), 1001);
    assert_eq!(
        meter.counter("enkrypt_cache_hits_total", &[("cache_type", "tools")]),
        1001
    );
    assert_eq!(
        meter.counter("enkrypt_timeout_operations_successful", &[]),
        1001
    );
    assert_eq!(meter.gauge("enkrypt_active_sessions", &[]), 0);
}
