//! Every measurement of a call lands in the pipeline that was current when it started, however
//! and wherever it ends; test meters cannot misroute.

use std::future::Future as _;
use std::task::{Context, Poll, Waker};

use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{record, tool_call, CacheType};
use tests::gateway_fixture::GatewayError;
use tokio::sync::oneshot;

#[tool_call(server = "slow", tool = "forever")]
async fn forever(started: oneshot::Sender<()>) -> Result<(), GatewayError> {
    let _ = started.send(());
    std::future::pending::<()>().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_future_aborted_on_another_worker_records_its_cancellation_in_its_meter() {
    let meter = TestMeter::new();
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(meter.scope(forever(tx)));
    rx.await.expect("the call started");
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let slow = [("server_name", "slow")];
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &slow), 1);
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[("server_name", "slow"), ("error_type", "cancelled")]
        ),
        1
    );
    assert_eq!(meter.counter("enkrypt_tool_call_error_counter", &slow), 1);
    assert_eq!(
        meter
            .histogram("enkrypt_tool_call_duration_seconds", &slow)
            .count,
        1
    );
}

#[test]
fn meters_dropped_out_of_creation_order_leave_the_live_one_current() {
    let first = TestMeter::new();
    let second = TestMeter::new();
    drop(first);
    record::cache_hit(CacheType::Tools);
    assert_eq!(
        second.counter("enkrypt_cache_hits_total", &[("cache_type", "tools")]),
        1,
        "the live meter is current"
    );
    let third = TestMeter::new();
    drop(second);
    record::cache_hit(CacheType::Tools);
    assert_eq!(
        third.counter("enkrypt_cache_hits_total", &[("cache_type", "tools")]),
        1
    );
    drop(third);
    // No meter left: recordings wait for init() (this binary installs none), never in a dead
    // meter.
    let before = mcp_gateway_metrics::pending_before_init();
    record::cache_hit(CacheType::Tools);
    assert_eq!(mcp_gateway_metrics::pending_before_init(), before + 1);
}

#[tool_call(server = "hop", tool = "t")]
async fn hop(rx: oneshot::Receiver<()>) -> Result<(), GatewayError> {
    rx.await.map_err(|_| GatewayError::UpstreamUnavailable)
}

#[test]
fn a_call_that_ends_on_another_thread_records_in_the_meter_it_started_in() {
    let meter = TestMeter::new();
    let (tx, rx) = oneshot::channel::<()>();
    let mut call = Box::pin(hop(rx));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        call.as_mut().poll(&mut cx).is_pending(),
        "started here, under the meter"
    );
    drop(tx); // the call fails when next polled
    let ended = std::thread::spawn(move || {
        // No meter is current on this thread.
        call.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    })
    .join()
    .unwrap();
    assert!(matches!(
        ended,
        Poll::Ready(Err(GatewayError::UpstreamUnavailable))
    ));
    let hop = [("server_name", "hop")];
    assert_eq!(meter.counter("enkrypt_tool_calls_total", &hop), 1);
    assert_eq!(
        meter.counter(
            "enkrypt_tool_call_failure_total",
            &[
                ("server_name", "hop"),
                ("error_type", "upstream_unavailable")
            ]
        ),
        1
    );
}
