//! `ArrivalPlan`: an open-model (arrival-rate) load. Requests arrive at the instants a
//! rate curve gives, whatever the target's latency, so a slow server cannot lower the
//! offered load; each arrival runs one task.
//!
//! A `RateCurve` is piecewise linear. The k-th arrival (from 0) of an evenly spaced
//! stream is the instant the expected count `Λ(t) = ∫ rate` reaches `k`; a Poisson stream
//! draws unit-exponential steps of `Λ` instead, which is a Poisson process of that rate.

use std::time::Duration;

use rand::Rng;

/// How arrivals are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spacing {
    /// Evenly, at exactly the rate: 1000/min for 60 s is 1000 arrivals.
    Uniform,
    /// At random, as independent users would arrive (a Poisson process of the rate).
    Poisson,
}

/// Which task an arrival runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskPick {
    /// A class by the class weights, then one of its tasks by the task weights.
    Mix,
    /// Always this task (a per-task rate).
    Task { class: usize, task: usize },
}

/// One stream of arrivals.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArrivalStream {
    pub(crate) pick: TaskPick,
    pub(crate) curve: RateCurve,
}

/// The compiled open-model load.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArrivalPlan {
    pub(crate) streams: Vec<ArrivalStream>,
    pub(crate) spacing: Spacing,
    /// Arrivals running or waiting for a session at once; an arrival beyond it is dropped
    /// (counted and reported, never silently skipped).
    pub(crate) max_in_flight: u32,
    /// Reusable user sessions; when all are busy, arrivals wait for one, and the wait
    /// counts in their latency.
    pub(crate) sessions: u32,
}

impl ArrivalPlan {
    /// Arrivals per second at `t`, all streams together.
    pub(crate) fn rate_at(&self, t: Duration) -> f64 {
        self.streams.iter().map(|s| s.curve.rate_at(t)).sum()
    }

    /// Arrivals the plan expects over its whole length (evenly spaced: exact to ±1).
    pub(crate) fn expected_total(&self) -> f64 {
        self.streams.iter().map(|s| s.curve.expected_total()).sum()
    }

    /// The highest arrival rate the plan reaches, all streams together. Curves are
    /// piecewise linear, so the peak is at the edge of a segment.
    pub(crate) fn peak_rate(&self) -> f64 {
        let edges = self.streams.iter().flat_map(|s| &s.curve.segments);
        let mut peak: f64 = 0.0;
        for segment in edges {
            let end = segment.start + segment.duration;
            let just_before_end = end.saturating_sub(Duration::from_nanos(1));
            peak = peak
                .max(self.rate_at(segment.start))
                .max(self.rate_at(just_before_end));
        }
        peak
    }
}

/// A linear piece of a rate curve: `from` to `to` arrivals per second over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Segment {
    pub(crate) start: Duration,
    pub(crate) duration: Duration,
    pub(crate) from: f64,
    pub(crate) to: f64,
}

impl Segment {
    fn expected(&self) -> f64 {
        (self.from + self.to) / 2.0 * self.duration.as_secs_f64()
    }

    /// Seconds into the segment at which `x` more arrivals are expected (`x` ≤ expected).
    fn offset_of(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let half_slope = (self.to - self.from) / (2.0 * self.duration.as_secs_f64());
        // Root of half_slope·τ² + from·τ − x = 0 in the form that stays exact when the
        // slope is zero and when `from` is zero.
        let root = (self.from * self.from + 4.0 * half_slope * x)
            .max(0.0)
            .sqrt();
        2.0 * x / (self.from + root)
    }
}

/// Arrivals per second over time: consecutive linear segments from the start of the run.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RateCurve {
    pub(crate) segments: Vec<Segment>,
}

impl RateCurve {
    /// A constant rate for `duration`.
    pub(crate) fn constant(per_second: f64, duration: Duration) -> Self {
        Self {
            segments: vec![Segment {
                start: Duration::ZERO,
                duration,
                from: per_second,
                to: per_second,
            }],
        }
    }

    pub(crate) fn rate_at(&self, t: Duration) -> f64 {
        self.segments
            .iter()
            .find(|s| t >= s.start && t < s.start + s.duration)
            .map_or(0.0, |s| {
                let f = (t - s.start).as_secs_f64() / s.duration.as_secs_f64();
                s.from + (s.to - s.from) * f
            })
    }

    pub(crate) fn expected_total(&self) -> f64 {
        self.segments.iter().map(Segment::expected).sum()
    }

    /// The expected count at `t`: `Λ(t)`, the arrivals due before `t`.
    pub(crate) fn count_at(&self, t: Duration) -> f64 {
        let mut count = 0.0;
        for segment in &self.segments {
            if t >= segment.start + segment.duration {
                count += segment.expected();
            } else if t > segment.start {
                let part = Segment {
                    duration: t - segment.start,
                    to: segment.from
                        + (segment.to - segment.from) * (t - segment.start).as_secs_f64()
                            / segment.duration.as_secs_f64(),
                    ..*segment
                };
                count += part.expected();
            }
        }
        count
    }

    /// The instant the expected count reaches `count`, or `None` if it never does before
    /// the curve ends.
    pub(crate) fn instant_of(&self, count: f64) -> Option<Duration> {
        let mut before = 0.0;
        for segment in &self.segments {
            let expected = segment.expected();
            // The relative slack absorbs rounding: 1000/min for 60 s reaches 1000 exactly
            // at the end, which belongs to the next run, not this one.
            if expected > 0.0 && count - before < expected * (1.0 - 1e-12) {
                let offset = segment.offset_of(count - before);
                let offset = Duration::from_secs_f64(offset).min(segment.duration);
                return Some(segment.start + offset);
            }
            before += expected;
        }
        None
    }
}

/// The successive arrival instants of one stream.
#[derive(Debug, Clone)]
pub(crate) struct Arrivals<'c> {
    curve: &'c RateCurve,
    spacing: Spacing,
    /// Expected count at the next arrival.
    next: f64,
}

impl<'c> Arrivals<'c> {
    pub(crate) fn new(curve: &'c RateCurve, spacing: Spacing, rng: &mut impl Rng) -> Self {
        let mut arrivals = Self {
            curve,
            spacing,
            next: 0.0,
        };
        if spacing == Spacing::Poisson {
            arrivals.next = exponential(rng);
        }
        arrivals
    }

    /// The next arrival's instant from the start of the run, or `None` at the end.
    pub(crate) fn next_instant(&mut self, rng: &mut impl Rng) -> Option<Duration> {
        let at = self.curve.instant_of(self.next)?;
        self.next += match self.spacing {
            Spacing::Uniform => 1.0,
            Spacing::Poisson => exponential(rng),
        };
        Some(at)
    }
}

impl Arrivals<'_> {
    /// Skips every arrival due before `t` without producing it; returns how many were
    /// skipped (evenly spaced: exactly; Poisson: the expected number, whose instants
    /// were never drawn). A dispatcher that fell behind drops them at once, in O(1).
    pub(crate) fn skip_to(&mut self, t: Duration, rng: &mut impl Rng) -> u64 {
        let reached = self.curve.count_at(t);
        if reached <= self.next {
            return 0;
        }
        match self.spacing {
            Spacing::Uniform => {
                // The tolerance absorbs rounding: an arrival's instant is truncated to the
                // nanosecond, so the count at it can come out a hair above its index.
                let skipped = (reached - self.next - 1e-6).ceil().max(0.0);
                self.next += skipped;
                skipped as u64
            }
            Spacing::Poisson => {
                let skipped = (reached - self.next).round();
                self.next = reached + exponential(rng);
                skipped as u64
            }
        }
    }

    /// How many arrivals are still to come (evenly spaced: exactly; Poisson: expected).
    pub(crate) fn remaining(&self) -> u64 {
        let left = (self.curve.expected_total() * (1.0 - 1e-12) - self.next).max(0.0);
        match self.spacing {
            Spacing::Uniform => left.ceil() as u64,
            Spacing::Poisson => left.round() as u64,
        }
    }
}

/// A unit-mean exponential draw.
fn exponential(rng: &mut impl Rng) -> f64 {
    // `random` is in [0, 1); 1 − u is in (0, 1], whose logarithm is finite.
    -(1.0 - rng.random::<f64>()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn all(curve: &RateCurve, spacing: Spacing, seed: u64) -> Vec<Duration> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut arrivals = Arrivals::new(curve, spacing, &mut rng);
        std::iter::from_fn(|| arrivals.next_instant(&mut rng)).collect()
    }

    #[test]
    fn a_thousand_a_minute_for_a_minute_is_a_thousand_evenly_spaced() {
        let curve = RateCurve::constant(1000.0 / 60.0, Duration::from_secs(60));
        let instants = all(&curve, Spacing::Uniform, 0);
        assert_eq!(instants.len(), 1000);
        assert_eq!(instants[0], Duration::ZERO);
        assert_eq!(instants[1], Duration::from_millis(60));
        assert!(instants[999] < Duration::from_secs(60));
    }

    #[test]
    fn fractional_rates_keep_their_spacing() {
        let per_min = RateCurve::constant(1.0 / 60.0, Duration::from_secs(300));
        assert_eq!(all(&per_min, Spacing::Uniform, 0).len(), 5);
        let two_and_a_half = RateCurve::constant(2.5, Duration::from_secs(10));
        let instants = all(&two_and_a_half, Spacing::Uniform, 0);
        assert_eq!(instants.len(), 25);
        assert_eq!(instants[2], Duration::from_millis(800));
    }

    #[test]
    fn a_linear_ramp_sends_its_area() {
        // 10/s → 100/s over 60 s: (10 + 100) / 2 · 60 = 3300 arrivals, denser at the end.
        let curve = RateCurve {
            segments: vec![Segment {
                start: Duration::ZERO,
                duration: Duration::from_secs(60),
                from: 10.0,
                to: 100.0,
            }],
        };
        let instants = all(&curve, Spacing::Uniform, 0);
        assert_eq!(instants.len(), 3300);
        let first_half = instants
            .iter()
            .filter(|t| **t < Duration::from_secs(30))
            .count();
        // ∫₀³⁰ (10 + 1.5 t) dt = 300 + 675 = 975.
        assert_eq!(first_half, 975);
    }

    #[test]
    fn skipping_counts_exactly_the_arrivals_it_passes() {
        let ramp = RateCurve {
            segments: vec![
                Segment {
                    start: Duration::ZERO,
                    duration: Duration::from_secs(60),
                    from: 10.0,
                    to: 100.0,
                },
                Segment {
                    start: Duration::from_secs(60),
                    duration: Duration::from_secs(10),
                    from: 100.0,
                    to: 100.0,
                },
            ],
        };
        let every = all(&ramp, Spacing::Uniform, 0);
        assert_eq!(every.len(), 4300);
        let mut rng = SmallRng::seed_from_u64(0);
        for cut in [0, 1, 975, 3299, 3300, 4299] {
            let mut arrivals = Arrivals::new(&ramp, Spacing::Uniform, &mut rng);
            let t = every[cut];
            let skipped = arrivals.skip_to(t, &mut rng);
            // Every arrival before `t` was skipped; the next one is the one at `t`.
            assert_eq!(skipped as usize, every.iter().filter(|a| **a < t).count());
            assert_eq!(
                arrivals.remaining() as usize,
                every.len() - skipped as usize
            );
            assert_eq!(arrivals.next_instant(&mut rng), Some(t), "{cut}");
        }
        let mut arrivals = Arrivals::new(&ramp, Spacing::Uniform, &mut rng);
        assert_eq!(arrivals.skip_to(Duration::from_secs(99), &mut rng), 4300);
        assert_eq!(arrivals.remaining(), 0);
        assert_eq!(arrivals.next_instant(&mut rng), None);
    }

    #[test]
    fn poisson_keeps_the_mean_and_varies_the_gaps() {
        let curve = RateCurve::constant(100.0, Duration::from_secs(600));
        let instants = all(&curve, Spacing::Poisson, 42);
        let n = instants.len() as f64;
        // 60,000 expected; the standard deviation is √60000 ≈ 245.
        assert!((n - 60_000.0).abs() < 1000.0, "{n}");
        let gaps: Vec<f64> = instants
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64())
            .collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!((mean - 0.01).abs() < 0.0003, "mean gap {mean}");
        // Exponential gaps: the standard deviation equals the mean (uniform has none).
        assert!(
            (var.sqrt() / mean - 1.0).abs() < 0.05,
            "cv {}",
            var.sqrt() / mean
        );
    }
}
