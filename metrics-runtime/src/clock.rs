//! The clock call durations are measured with.
//!
//! `std::time::Instant::now()` is a `clock_gettime` call: about 28 ns on the 2-core machine
//! the README's numbers come from, and a call reads it twice. A live pipeline reads the CPU's
//! time-stamp counter instead (`quanta`, which calibrates it against the OS clock once and
//! falls back to the OS clock where the counter is not reliable). A [`TestMeter`]'s pipeline
//! reads tokio's clock, so that tests running with paused time see the durations they
//! advanced.
//!
//! [`TestMeter`]: crate::testing::TestMeter

use std::sync::LazyLock;
use std::time::Duration;

/// Which clock a pipeline's calls are timed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clock {
    /// The time-stamp counter, through `quanta`.
    Tsc,
    /// tokio's clock: real time, or the paused clock of a test.
    Tokio,
}

/// The counter, and what one of its ticks is in seconds (so that a call's duration is one
/// multiplication away from what the histogram takes).
struct Tsc {
    clock: quanta::Clock,
    seconds_per_tick: f64,
}

static TSC: LazyLock<Tsc> = LazyLock::new(|| {
    let clock = quanta::Clock::new();
    // quanta's calibrated scale, read over a span long enough to keep its full precision.
    let ticks = 1u64 << 40;
    let seconds_per_tick = clock.delta_as_nanos(0, ticks) as f64 / ticks as f64 / 1e9;
    Tsc {
        clock,
        seconds_per_tick,
    }
});

/// Calibrates the counter now rather than in the first call (`init()` does it).
pub(crate) fn warm_up() {
    LazyLock::force(&TSC);
}

/// When a call started, on the clock of its pipeline.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Started {
    Tsc(u64),
    Tokio(tokio::time::Instant),
}

impl Started {
    #[inline]
    pub(crate) fn now(clock: Clock) -> Started {
        match clock {
            Clock::Tsc => Started::Tsc(TSC.clock.raw()),
            Clock::Tokio => Started::Tokio(tokio::time::Instant::now()),
        }
    }

    /// [`Self::elapsed`] in seconds, without a `Duration` in between (what histograms take).
    #[inline]
    pub(crate) fn elapsed_secs(self) -> f64 {
        match self {
            Started::Tsc(start) => {
                let tsc = &*TSC;
                // A counter read on another core may be a little behind: no negative time.
                let ticks = tsc.clock.raw().saturating_sub(start);
                ticks as f64 * tsc.seconds_per_tick
            }
            Started::Tokio(start) => start.elapsed().as_secs_f64(),
        }
    }

    #[inline]
    pub(crate) fn elapsed(self) -> Duration {
        match self {
            Started::Tsc(start) => TSC.clock.delta(start, TSC.clock.raw()),
            Started::Tokio(start) => start.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_clocks_measure_real_time() {
        for clock in [Clock::Tsc, Clock::Tokio] {
            let started = Started::now(clock);
            std::thread::sleep(Duration::from_millis(20));
            let elapsed = started.elapsed();
            assert!(
                elapsed >= Duration::from_millis(19) && elapsed < Duration::from_secs(5),
                "{clock:?}: {elapsed:?}"
            );
            let secs = started.elapsed_secs();
            assert!(
                secs >= elapsed.as_secs_f64() && secs < 5.0,
                "{clock:?}: {secs} s after {elapsed:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_tokio_clock_follows_paused_time() {
        let started = Started::now(Clock::Tokio);
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert_eq!(started.elapsed(), Duration::from_millis(1500));
        assert_eq!(started.elapsed_secs(), 1.5);
    }
}
