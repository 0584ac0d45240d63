//! `Chaos`: decides, per counted request, how long to wait and whether to inject a 500.
//!
//! Each decision draws from its own small RNG seeded from the configured seed and a
//! request sequence number, so deciding never takes a lock and a given seed always
//! yields the same sequence of decisions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::config::SampleApiConfig;

/// What to do to one counted request before answering it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Decision {
    /// How long to wait before answering.
    pub(crate) delay: Duration,
    /// Answer 500 `{"error":"injected"}` instead of the normal answer.
    pub(crate) inject_error: bool,
}

/// Latency and error injection, configured once per server.
pub(crate) struct Chaos {
    latency: Duration,
    jitter_nanos: u64,
    error_rate: f64,
    seed: u64,
    draws: AtomicU64,
}

impl Chaos {
    /// Takes the knobs from a validated config.
    pub(super) fn new(config: &SampleApiConfig) -> Self {
        Self {
            latency: config.latency,
            jitter_nanos: u64::try_from(config.jitter.as_nanos()).unwrap_or(u64::MAX),
            error_rate: config.error_rate,
            seed: config.seed,
            draws: AtomicU64::new(0),
        }
    }

    /// The decision for the next request.
    pub(crate) fn decide(&self) -> Decision {
        let needs_rng = self.jitter_nanos > 0 || (self.error_rate > 0.0 && self.error_rate < 1.0);
        if !needs_rng {
            // The common benchmark configuration: skip the shared counter entirely.
            return Decision {
                delay: self.latency,
                inject_error: self.error_rate >= 1.0,
            };
        }
        let draw = self.draws.fetch_add(1, Ordering::Relaxed);
        let mut rng = SmallRng::seed_from_u64(self.seed ^ mix(draw));
        let extra = if self.jitter_nanos > 0 {
            Duration::from_nanos(rng.random_range(0..=self.jitter_nanos))
        } else {
            Duration::ZERO
        };
        Decision {
            delay: self.latency.saturating_add(extra),
            inject_error: rng.random::<f64>() < self.error_rate,
        }
    }
}

/// SplitMix64 finaliser: spreads consecutive sequence numbers over the whole seed space,
/// so that `seed ^ mix(n)` differs across both seeds and requests.
pub(crate) fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chaos(latency_ms: u64, jitter_ms: u64, error_rate: f64, seed: u64) -> Chaos {
        Chaos::new(&SampleApiConfig {
            latency: Duration::from_millis(latency_ms),
            jitter: Duration::from_millis(jitter_ms),
            error_rate,
            seed,
            ..SampleApiConfig::default()
        })
    }

    #[test]
    fn no_jitter_and_no_errors_gives_the_fixed_latency() {
        let chaos = chaos(25, 0, 0.0, 1);
        for _ in 0..100 {
            assert_eq!(
                chaos.decide(),
                Decision {
                    delay: Duration::from_millis(25),
                    inject_error: false
                }
            );
        }
    }

    #[test]
    fn error_rate_one_always_injects() {
        let chaos = chaos(0, 0, 1.0, 1);
        assert!((0..100).all(|_| chaos.decide().inject_error));
    }

    #[test]
    fn jitter_stays_within_bounds_and_varies() {
        let chaos = chaos(10, 5, 0.0, 7);
        let delays: Vec<Duration> = (0..1000).map(|_| chaos.decide().delay).collect();
        let min = Duration::from_millis(10);
        let max = Duration::from_millis(15);
        assert!(delays.iter().all(|d| (min..=max).contains(d)));
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(
            distinct.len() > 900,
            "only {} distinct delays",
            distinct.len()
        );
        // Both halves of the range are reached, i.e. the extra is spread out.
        assert!(delays.iter().any(|d| *d < Duration::from_micros(11_000)));
        assert!(delays.iter().any(|d| *d > Duration::from_micros(14_000)));
    }

    #[test]
    fn error_rate_is_respected_on_average() {
        let chaos = chaos(0, 0, 0.3, 42);
        let injected = (0..20_000).filter(|_| chaos.decide().inject_error).count();
        let fraction = injected as f64 / 20_000.0;
        assert!((0.28..0.32).contains(&fraction), "{fraction}");
    }

    #[test]
    fn same_seed_same_decisions_other_seed_other_decisions() {
        let run = |seed| {
            let chaos = chaos(0, 100, 0.5, seed);
            (0..50).map(|_| chaos.decide()).collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}
