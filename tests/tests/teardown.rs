//! A pending instrumented future dropped while its thread's thread-locals are torn down (by
//! another thread-local's destructor) records its cancellation instead of aborting the process.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use mcp_gateway_metrics::catalog::Metric;
use mcp_gateway_metrics::tool_call;
use tests::gateway_fixture::GatewayError;

type Parked = Pin<Box<dyn Future<Output = Result<(), GatewayError>>>>;

thread_local! {
    static PARKED: RefCell<Option<Parked>> = const { RefCell::new(None) };
}

#[tool_call(server = "teardown", tool = "parked")]
async fn parked() -> Result<(), GatewayError> {
    std::future::pending::<()>().await;
    Ok(())
}

#[test]
fn a_future_dropped_during_thread_local_teardown_records_and_does_not_abort() {
    let _metrics = mcp_gateway_metrics::Config::builder()
        .serve_prometheus(false)
        .install()
        .unwrap();
    std::thread::spawn(|| {
        // Registered first, so destroyed last: after the thread-locals the first poll below
        // registers (ours, and those of the lock-free maps the handles live in).
        PARKED.with(|_| ());
        let mut future: Parked = Box::pin(parked());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(future.as_mut().poll(&mut cx), Poll::Pending));
        PARKED.with(|p| *p.borrow_mut() = Some(future));
        // The thread ends: its thread-locals are destroyed, PARKED's last, dropping the call.
    })
    .join()
    .expect("the thread ended without a panic");
    // The cancellation is recorded, in the pipeline the call started in.
    let now = mcp_gateway_metrics::read::snapshot().unwrap();
    let labels = [("server_name", "teardown")];
    assert_eq!(now.counter(Metric::ToolCalls, &labels), 1);
    let cancelled = [("server_name", "teardown"), ("error_type", "cancelled")];
    assert_eq!(now.counter(Metric::ToolCallFailure, &cancelled), 1);
    assert_eq!(now.counter(Metric::ToolCallErrors, &labels), 1);
}
