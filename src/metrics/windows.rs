//! `Windows`: time-aware SLOs evaluated online by the recorder — every sliding window,
//! one stage, or the drift from the first to the last minutes — and the abort trigger.
//!
//! Memory is bounded by the longest window, not the run: each windowed SLO keeps a ring
//! of at most `MAX_BUCKETS` buckets (a second each, or window/60 for longer windows) of
//! counts and a small latency histogram, and re-merges the ring when a window closes.
//! Requests are placed by completion second, as the per-second series places them.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::window_ring::{Bucket, Ring};
use crate::compile::RequestNameId;
use crate::compile::slo::{Comparison, Over, Slo, SloId, SloMeasure, SloScope, Threshold};

/// What the recorder measured for one time-aware SLO.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WindowOutcome {
    /// The SLO measured.
    pub(crate) slo: SloId,
    /// The worst window's value (the stage's value; the drift as a fraction); `None`
    /// when nothing could be measured, for the reason in `missing`.
    pub(crate) measured: Option<f64>,
    pub(crate) missing: &'static str,
    /// Where the worst window (the stage, the last drift stretch) lies, from the start.
    pub(crate) from_us: u64,
    pub(crate) to_us: u64,
    /// Windows evaluated, and how many breached.
    pub(crate) windows: u64,
    pub(crate) breached: u64,
    /// When the first breaching window ended.
    pub(crate) first_breach_us: Option<u64>,
    /// Drift: the metric over the first and the last stretch.
    pub(crate) baseline: Option<f64>,
    pub(crate) compared: Option<f64>,
}

/// Why the run was stopped before its end.
#[derive(Debug, Clone, PartialEq)]
pub struct AbortReason {
    /// The SLO's label.
    pub(crate) slo: String,
    /// When the recorder stopped the run, from the start.
    pub at_us: u64,
    /// `error-rate 20% in 20s–30s, breached since 25s`.
    pub(crate) reason: String,
}

#[derive(Debug)]
enum Kind {
    Sliding(Ring),
    Stage {
        from_s: u64,
        to_s: u64,
        acc: Bucket,
    },
    Drift {
        from_s: u64,
        to_s: u64,
        first: Bucket,
        last: Ring,
    },
}

#[derive(Debug)]
struct Tracker {
    label: String,
    metric: Option<RequestNameId>,
    threshold: Threshold,
    abort_after: Option<Duration>,
    kind: Kind,
    outcome: WindowOutcome,
    breach_since_us: Option<u64>,
}

/// Every time-aware SLO of a run.
#[derive(Debug)]
pub(super) struct Windows {
    trackers: Vec<Tracker>,
    aborted: Option<AbortReason>,
    abort: CancellationToken,
    /// The run's end, once known: no window extends past it.
    end_us: u64,
}

impl Windows {
    pub(super) fn new(slos: &[Slo], abort: CancellationToken) -> Self {
        let trackers = slos
            .iter()
            .filter(|slo| slo.over.is_time_aware())
            .map(|slo| {
                let latency = slo.threshold.measure.is_latency();
                let kind = match &slo.over {
                    Over::AnyWindow(window) => Kind::Sliding(Ring::new(*window, latency)),
                    Over::Stage { start, end, .. } => Kind::Stage {
                        from_s: start.as_secs(),
                        to_s: end.as_secs(),
                        acc: Bucket::new(latency),
                    },
                    Over::Drift { first, last, after } => Kind::Drift {
                        from_s: after.as_secs(),
                        to_s: (*after + *first).as_secs(),
                        first: Bucket::new(latency),
                        last: Ring::new(*last, latency),
                    },
                    Over::Run => unreachable!("filtered out above"),
                };
                Tracker {
                    label: slo.label(),
                    metric: match &slo.scope {
                        // Business metrics are whole-run only (see `compile::slos`).
                        SloScope::All | SloScope::Business { .. } => None,
                        SloScope::Request { id: metric, .. } => Some(*metric),
                    },
                    threshold: slo.threshold.clone(),
                    abort_after: slo.abort_after,
                    kind,
                    outcome: WindowOutcome {
                        slo: slo.id,
                        measured: None,
                        missing: "no requests",
                        from_us: 0,
                        to_us: 0,
                        windows: 0,
                        breached: 0,
                        first_breach_us: None,
                        baseline: None,
                        compared: None,
                    },
                    breach_since_us: None,
                }
            })
            .collect();
        Self {
            trackers,
            aborted: None,
            abort,
            end_us: u64::MAX,
        }
    }

    /// The run ended at `end_us`: the partial second closed next ends there.
    pub(super) fn ends_at(&mut self, end_us: u64) {
        self.end_us = end_us;
    }

    /// One completed request: its corrected latency and its service time, `None` for one
    /// never sent.
    pub(super) fn record(
        &mut self,
        metric: RequestNameId,
        finished_s: u64,
        latency_us: Option<(u64, u64)>,
        failed: bool,
    ) {
        for tracker in &mut self.trackers {
            if tracker.metric.is_some_and(|m| m != metric) {
                continue;
            }
            let latency_us =
                latency_us.map(|(corrected, service)| match tracker.threshold.measure {
                    SloMeasure::ServicePercentile(_) => service,
                    _ => corrected,
                });
            match &mut tracker.kind {
                Kind::Sliding(ring) => ring.current.record(latency_us, failed),
                Kind::Stage { from_s, to_s, acc } => {
                    if (*from_s..*to_s).contains(&finished_s) {
                        acc.record(latency_us, failed);
                    }
                }
                Kind::Drift {
                    from_s,
                    to_s,
                    first,
                    last,
                } => {
                    if (*from_s..*to_s).contains(&finished_s) {
                        first.record(latency_us, failed);
                    }
                    if finished_s >= *from_s {
                        last.current.record(latency_us, failed);
                    }
                }
            }
        }
    }

    /// Second `s` is over: windows ending with it are evaluated.
    pub(super) fn close_second(&mut self, s: u64) {
        for tracker in &mut self.trackers {
            let completed = match &mut tracker.kind {
                Kind::Sliding(ring) => ring.close_second(s) && ring.full(),
                Kind::Drift { last, .. } => {
                    last.close_second(s);
                    false
                }
                Kind::Stage { .. } => false,
            };
            if completed {
                let to_us = ((s + 1) * 1_000_000).min(self.end_us);
                if let Some(reason) = tracker.evaluate_window(to_us) {
                    if self.aborted.is_none() {
                        self.aborted = Some(reason);
                        self.abort.cancel();
                    }
                }
            }
        }
    }

    /// Evaluates what only the end can tell; `end_us` is the run's length.
    pub(super) fn finish(mut self, end_us: u64) -> (Vec<WindowOutcome>, Option<AbortReason>) {
        for tracker in &mut self.trackers {
            tracker.finish(end_us);
        }
        let outcomes = self.trackers.into_iter().map(|t| t.outcome).collect();
        (outcomes, self.aborted)
    }
}

impl Tracker {
    fn worse(&self, candidate: f64, than: f64) -> bool {
        match self.threshold.comparison {
            Comparison::Below | Comparison::AtMost => candidate > than,
            Comparison::Above | Comparison::AtLeast => candidate < than,
        }
    }

    /// Evaluates the ring's window ending at `to_us`; returns an abort reason when this
    /// breach should stop the run.
    fn evaluate_window(&mut self, to_us: u64) -> Option<AbortReason> {
        let Kind::Sliding(ring) = &self.kind else {
            return None;
        };
        // The window starts at its first bucket; `to_us` may cut its last one short.
        let first_bucket_us = to_us.div_ceil(ring.bucket_s * 1_000_000) * ring.bucket_s * 1_000_000;
        let from_us =
            first_bucket_us.saturating_sub(ring.bucket_s * ring.buckets.len() as u64 * 1_000_000);
        let value = ring
            .merged()
            .measure(self.threshold.measure, (to_us - from_us) as f64 / 1e6)?;
        let worst = self.outcome.measured.is_none_or(|w| self.worse(value, w));
        let outcome = &mut self.outcome;
        outcome.windows += 1;
        if worst {
            outcome.measured = Some(value);
            outcome.from_us = from_us;
            outcome.to_us = to_us;
        }
        if self.threshold.comparison.holds(value, self.threshold.value) {
            self.breach_since_us = None;
            return None;
        }
        outcome.breached += 1;
        outcome.first_breach_us.get_or_insert(to_us);
        let since = *self.breach_since_us.get_or_insert(to_us);
        let grace = self.abort_after?;
        if to_us - since < grace.as_micros() as u64 {
            return None;
        }
        Some(AbortReason {
            slo: self.label.clone(),
            at_us: to_us,
            reason: format!(
                "{} {} in {}s–{}s, breached since {}s",
                self.threshold.measure,
                self.threshold.format_value(value),
                from_us / 1_000_000,
                to_us / 1_000_000,
                since / 1_000_000
            ),
        })
    }

    fn finish(&mut self, end_us: u64) {
        let metric = self.threshold.measure;
        match &mut self.kind {
            Kind::Sliding(ring) => {
                // The incomplete bucket at the end still counts, and a run shorter than
                // the window is judged as one window.
                let pending = ring.current.requests > 0;
                if pending {
                    ring.push();
                }
                if pending || self.outcome.windows == 0 {
                    let _ = self.evaluate_window(end_us);
                }
            }
            Kind::Stage { from_s, to_s, acc } => {
                let (from_us, to_us) = (*from_s * 1_000_000, (*to_s * 1_000_000).min(end_us));
                let seconds = to_us.saturating_sub(from_us) as f64 / 1e6;
                let value = acc.measure(metric, seconds);
                if end_us <= from_us {
                    self.outcome.missing = "the run ended before the stage";
                }
                self.record_single(value, from_us, to_us);
            }
            Kind::Drift {
                to_s, first, last, ..
            } => {
                if end_us < *to_s * 1_000_000 {
                    self.outcome.missing = "run too short for its first stretch";
                    return;
                }
                last.push();
                let span_us = last.bucket_s * last.buckets.len() as u64 * 1_000_000;
                let baseline = first.measure(metric, 1.0);
                let compared = last.merged().measure(metric, 1.0);
                self.outcome.baseline = baseline;
                self.outcome.compared = compared;
                let value = match (baseline, compared) {
                    (Some(b), Some(c)) if b > 0.0 => Some((c - b) / b),
                    _ => None,
                };
                self.record_single(value, end_us.saturating_sub(span_us), end_us);
            }
        }
    }

    fn record_single(&mut self, value: Option<f64>, from_us: u64, to_us: u64) {
        let outcome = &mut self.outcome;
        outcome.from_us = from_us;
        outcome.to_us = to_us;
        let Some(value) = value else {
            return;
        };
        outcome.measured = Some(value);
        outcome.windows = 1;
        if !self.threshold.comparison.holds(value, self.threshold.value) {
            outcome.breached = 1;
            outcome.first_breach_us = Some(to_us);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::{Level, parse_check};

    fn windows(checks: &[&str]) -> Windows {
        let slos: Vec<Slo> = checks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (threshold, over) = parse_check(c).unwrap();
                Slo {
                    id: SloId(i as u32),
                    scope: SloScope::All,
                    threshold,
                    level: Level::Critical,
                    over,
                    abort_after: None,
                }
            })
            .collect();
        Windows::new(&slos, CancellationToken::new())
    }

    /// `per_second` requests in each second of `seconds`, with this latency.
    fn feed(w: &mut Windows, seconds: std::ops::Range<u64>, per_second: u64, latency_us: u64) {
        for s in seconds {
            for _ in 0..per_second {
                w.record(RequestNameId(0), s, Some((latency_us, latency_us)), false);
            }
            w.close_second(s);
        }
    }

    #[test]
    fn a_throughput_window_is_not_lowered_by_the_partial_last_second() {
        let mut w = windows(&["throughput >= 990/min over any 1m"]);
        feed(&mut w, 0..60, 17, 1000);
        // The run ends 3 ms into second 60, with nothing completed in it.
        w.ends_at(60_003_000);
        w.close_second(60);
        let (outcomes, _) = w.finish(60_003_000);
        let worst = outcomes[0].measured.unwrap();
        assert!((worst - 17.0).abs() < 0.01, "{worst}");
        assert_eq!(outcomes[0].breached, 0);
        assert_eq!(outcomes[0].windows, 2);
    }

    #[test]
    fn drift_compares_the_first_and_last_stretches_after_the_warm_up() {
        let mut w = windows(&["p95 drift < 30% first 1m vs last 1m after 1m"]);
        feed(&mut w, 0..60, 10, 900_000); // warm-up: slow, ignored
        feed(&mut w, 60..120, 10, 100_000); // first stretch
        feed(&mut w, 120..240, 10, 120_000);
        feed(&mut w, 240..300, 10, 150_000); // last stretch
        let (outcomes, _) = w.finish(300_000_000);
        let drift = outcomes[0].measured.unwrap();
        assert!((drift - 0.5).abs() < 0.02, "{drift}");
        assert_eq!(outcomes[0].breached, 1);
        assert_eq!(
            (outcomes[0].from_us, outcomes[0].to_us),
            (240_000_000, 300_000_000)
        );

        let mut short = windows(&["p95 drift < 30% first 1m vs last 1m after 1m"]);
        feed(&mut short, 0..90, 10, 100_000);
        let (outcomes, _) = short.finish(90_000_000);
        assert_eq!(outcomes[0].measured, None);
        assert_eq!(outcomes[0].missing, "run too short for its first stretch");
    }
}
