//! `ThinkTime`: what a user does between tasks (`between 1s 3s`, `constant 2s`,
//! `pacing 5s`, `none`). Think time is never part of a request's latency.

use std::time::Duration;

use rand::Rng;

use crate::units::{format_duration, parse_duration};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThinkTime {
    /// Start the next task at once.
    None,
    /// Wait exactly this long after each task.
    Constant(Duration),
    /// Wait a uniformly random time in `[min, max]` after each task (Locust's `between`).
    Between(Duration, Duration),
    /// Start tasks this far apart, whatever they took (Locust's `constant_pacing`):
    /// a user then offers a fixed rate unless a task takes longer than the pacing.
    Pacing(Duration),
}

impl ThinkTime {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["none"] => Some(Self::None),
            ["constant", d] => parse_duration(d).ok().map(Self::Constant),
            ["between", a, b] => {
                let (a, b) = (parse_duration(a).ok()?, parse_duration(b).ok()?);
                (a <= b).then_some(Self::Between(a, b))
            }
            ["pacing", d] => parse_duration(d)
                .ok()
                .filter(|d| !d.is_zero())
                .map(Self::Pacing),
            _ => None,
        }
    }

    /// The wait after a task that started at `task_started` and has just ended
    /// (`elapsed` later).
    pub(crate) fn wait(&self, elapsed: Duration, rng: &mut impl Rng) -> Duration {
        match *self {
            Self::None => Duration::ZERO,
            Self::Constant(d) => d,
            Self::Between(a, b) if a == b => a,
            Self::Between(a, b) => {
                Duration::from_micros(rng.random_range(a.as_micros() as u64..=b.as_micros() as u64))
            }
            Self::Pacing(p) => p.saturating_sub(elapsed),
        }
    }

    /// Tasks a user starts per second if responses were instant; `None` without think
    /// time (as fast as the target answers).
    pub(crate) fn tasks_per_second(&self) -> Option<f64> {
        match self.mean_cycle() {
            Ok(cycle) if cycle.is_zero() => None,
            Ok(cycle) | Err(cycle) => Some(1.0 / cycle.as_secs_f64()),
        }
    }

    /// The mean time a user spends per task besides the requests themselves, for
    /// expected-rate estimates; pacing is the whole cycle, so it is returned as `Err`.
    pub(crate) fn mean_cycle(&self) -> Result<Duration, Duration> {
        match *self {
            Self::None => Ok(Duration::ZERO),
            Self::Constant(d) => Ok(d),
            Self::Between(a, b) => Ok((a + b) / 2),
            Self::Pacing(p) => Err(p),
        }
    }
}

impl std::fmt::Display for ThinkTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::Constant(d) => write!(f, "constant {}", format_duration(*d)),
            Self::Between(a, b) => {
                write!(f, "between {} {}", format_duration(*a), format_duration(*b))
            }
            Self::Pacing(p) => write!(f, "pacing {}", format_duration(*p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parses_and_displays_every_form() {
        for text in ["none", "constant 2s", "between 1s 3s", "pacing 500ms"] {
            assert_eq!(ThinkTime::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "between 3s 1s",
            "sometimes",
            "constant",
            "pacing 0s",
            "between 1 3",
        ] {
            assert!(ThinkTime::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn between_stays_in_bounds_and_pacing_subtracts_elapsed() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let think = ThinkTime::parse("between 1s 3s").unwrap();
        for _ in 0..1000 {
            let wait = think.wait(Duration::ZERO, &mut rng);
            assert!(wait >= Duration::from_secs(1) && wait <= Duration::from_secs(3));
        }
        let pacing = ThinkTime::Pacing(Duration::from_millis(100));
        assert_eq!(
            pacing.wait(Duration::from_millis(30), &mut rng),
            Duration::from_millis(70)
        );
        assert_eq!(
            pacing.wait(Duration::from_millis(300), &mut rng),
            Duration::ZERO
        );
    }
}
