//! A pending instrumented future dropped while its thread's thread-locals are torn down (by
//! another thread-local's destructor) records its cancellation instead of aborting the process.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

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
    let before = mcp_gateway_metrics::pending_before_init();
    std::thread::spawn(|| {
        // Registered first, so destroyed last: after the runtime's own thread-locals, which
        // the first poll below registers.
        PARKED.with(|_| ());
        let mut future: Parked = Box::pin(parked());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(future.as_mut().poll(&mut cx), Poll::Pending));
        PARKED.with(|p| *p.borrow_mut() = Some(future));
        // The thread ends: its thread-locals are destroyed, PARKED's last, dropping the call.
    })
    .join()
    .expect("the thread ended without a panic");
    // No pipeline in this process: the cancelled call waits for init(): calls, failure,
    // error and duration.
    assert_eq!(mcp_gateway_metrics::pending_before_init(), before + 4);
}
