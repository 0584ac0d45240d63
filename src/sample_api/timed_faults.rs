//! `TimedFaults`: faults that follow the clock rather than chance, so a test can place
//! them in a run: a `Stall` (the server freezes for `length` once every `every`, as a
//! stop-the-world pause would) and an `ErrorWindow` (500s at `rate` between two instants).
//! Both count from the moment the server started.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

use super::chaos::mix;
use crate::units::{format_duration, parse_duration, parse_percent};

/// Frozen during the last `length` of every `every`: `1s/10s` freezes 9–10 s, 19–20 s, …
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stall {
    pub(crate) length: Duration,
    pub(crate) every: Duration,
}

impl Stall {
    /// `LENGTH/EVERY`, e.g. `1s/10s`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = "expected `LENGTH/EVERY`, e.g. `1s/10s` (freeze 1s once every 10s)";
        let (length, every) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}`: {expected}"))?;
        let stall = Self {
            length: parse_duration(length.trim())?,
            every: parse_duration(every.trim())?,
        };
        if stall.length.is_zero() || stall.length >= stall.every {
            return Err(format!(
                "`{text}`: the freeze must be shorter than its period: {expected}"
            ));
        }
        Ok(stall)
    }

    /// How long a request arriving `elapsed` after the start waits for the freeze to end.
    pub(crate) fn remaining(&self, elapsed: Duration) -> Duration {
        let every = self.every.as_nanos();
        let into = elapsed.as_nanos() % every;
        let frozen_from = every - self.length.as_nanos();
        if into >= frozen_from {
            Duration::from_nanos((every - into) as u64)
        } else {
            Duration::ZERO
        }
    }
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            format_duration(self.length),
            format_duration(self.every)
        )
    }
}

/// Injected 500s at `rate` for requests arriving in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorWindow {
    pub(crate) rate: f64,
    pub(crate) from: Duration,
    pub(crate) to: Duration,
}

impl ErrorWindow {
    /// `RATE@FROM..TO`, e.g. `20%@30s..60s`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = "expected `RATE@FROM..TO`, e.g. `20%@30s..60s`";
        let (rate, span) = text
            .split_once('@')
            .ok_or_else(|| format!("`{text}`: {expected}"))?;
        let (from, to) = span
            .split_once("..")
            .ok_or_else(|| format!("`{text}`: {expected}"))?;
        let window = Self {
            rate: parse_percent(rate.trim())?,
            from: parse_duration(from.trim())?,
            to: parse_duration(to.trim())?,
        };
        if window.from >= window.to || !(0.0..=1.0).contains(&window.rate) {
            return Err(format!("`{text}`: {expected}"));
        }
        Ok(window)
    }
}

/// The timed faults of one server.
pub(crate) struct TimedFaults {
    epoch: Instant,
    stall: Option<Stall>,
    window: Option<ErrorWindow>,
    seed: u64,
    draws: AtomicU64,
}

impl TimedFaults {
    pub(super) fn new(stall: Option<Stall>, window: Option<ErrorWindow>, seed: u64) -> Self {
        Self {
            epoch: Instant::now(),
            stall,
            window,
            seed,
            draws: AtomicU64::new(0),
        }
    }

    /// How long a request arriving now waits for a freeze to end (zero outside one).
    pub(crate) fn stall(&self) -> Duration {
        self.stall
            .map_or(Duration::ZERO, |s| s.remaining(self.epoch.elapsed()))
    }

    /// Whether a request arriving now gets an injected 500.
    pub(crate) fn inject_error(&self) -> bool {
        let Some(window) = self.window else {
            return false;
        };
        let now = self.epoch.elapsed();
        if now < window.from || now >= window.to {
            return false;
        }
        let draw = self.draws.fetch_add(1, Ordering::Relaxed);
        // A stream apart from `Chaos`'s, so the two never draw the same numbers.
        let mut rng = SmallRng::seed_from_u64(self.seed ^ mix(draw) ^ 0x5741_4C4C);
        rng.random::<f64>() < window.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_freezes_the_end_of_each_period() {
        let stall = Stall::parse("1s/10s").unwrap();
        let ms = Duration::from_millis;
        assert_eq!(stall.remaining(ms(0)), Duration::ZERO);
        assert_eq!(stall.remaining(ms(8_999)), Duration::ZERO);
        assert_eq!(stall.remaining(ms(9_000)), ms(1_000));
        assert_eq!(stall.remaining(ms(9_750)), ms(250));
        assert_eq!(stall.remaining(ms(10_000)), Duration::ZERO);
        assert_eq!(stall.remaining(ms(19_500)), ms(500));
        assert_eq!(stall.to_string(), "1s/10s");
        for bad in ["1s", "10s/1s", "0s/10s", "1s/x"] {
            assert!(Stall::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_error_window_parses_and_rejects_nonsense() {
        let window = ErrorWindow::parse("20%@30s..60s").unwrap();
        assert_eq!(window.rate, 0.2);
        assert_eq!(window.from, Duration::from_secs(30));
        assert_eq!(window.to, Duration::from_secs(60));
        for bad in ["20%", "20%@30s", "20%@60s..30s", "20@1s..2s"] {
            assert!(ErrorWindow::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn errors_only_inside_the_window() {
        let faults = TimedFaults::new(
            None,
            Some(ErrorWindow {
                rate: 1.0,
                from: Duration::from_secs(1),
                to: Duration::from_secs(2),
            }),
            0,
        );
        assert!(!faults.inject_error());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(faults.inject_error());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!faults.inject_error());
    }
}
