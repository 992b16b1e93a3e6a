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

static TSC: LazyLock<quanta::Clock> = LazyLock::new(quanta::Clock::new);

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
            Clock::Tsc => Started::Tsc(TSC.raw()),
            Clock::Tokio => Started::Tokio(tokio::time::Instant::now()),
        }
    }

    /// [`Self::elapsed`] in seconds, without a `Duration` in between (what histograms take).
    #[inline]
    pub(crate) fn elapsed_secs(self) -> f64 {
        match self {
            Started::Tsc(start) => TSC.delta_as_nanos(start, TSC.raw()) as f64 / 1e9,
            Started::Tokio(start) => start.elapsed().as_secs_f64(),
        }
    }

    #[inline]
    pub(crate) fn elapsed(self) -> Duration {
        match self {
            Started::Tsc(start) => TSC.delta(start, TSC.raw()),
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
