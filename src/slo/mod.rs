//! SLOs: `RunSummary` + thresholds → `Vec<Verdict>`.
//!
//! An SLO about a request that never completed fails: a check with nothing to measure
//! must not pass silently.

mod run_verdict;

use serde::{Deserialize, Serialize};

use crate::metrics::{RequestStats, RunSummary, WindowOutcome};

pub use crate::compile::slo::{
    Comparison, Level, Over, RateUnit, Slo, SloId, SloMeasure, SloScope, Threshold, Unit,
    format_latency_us, format_metric_value, parse_check,
};
pub use run_verdict::RunVerdict;

/// The outcome of one SLO.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The SLO as written, with its scope: `pre-reserve: p95 < 3s`.
    pub slo: String,
    /// `all requests` or the request name.
    pub(crate) scope: String,
    /// `p95`, `mean`, `max`, `error-rate` or `throughput`.
    pub(crate) metric: String,
    /// `<`, `<=`, `>` or `>=`.
    pub(crate) comparison: String,
    /// The measured value (latencies in microseconds, error rates as fractions, throughput
    /// per second); `null` when nothing was measured.
    pub measured: Option<f64>,
    /// The threshold, in the same unit.
    pub(crate) threshold: f64,
    /// The unit of `measured` and `threshold`.
    pub(crate) unit: Unit,
    /// The measured value as people read it (`23.4ms`, `0.42%`), or `no requests`.
    pub measured_text: String,
    /// The threshold as people read it.
    pub(crate) threshold_text: String,
    /// False only for a breached `critical` SLO (a FAIL); a breached target still passes.
    pub passed: bool,
    /// `target` or `critical`.
    pub(crate) level: Level,
    /// `pass`, `warn` (a target breached) or `fail` (a critical SLO breached).
    pub status: Status,
    /// For SLOs over windows, a stage or a drift: where the measured value comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowVerdict>,
    /// Latency SLOs over the whole run: the responses the measured value is over (requests
    /// answered with any status, or timed out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) responses: Option<u64>,
    /// …and the requests of the scope left out for failing without a response (refused,
    /// reset, DNS, TLS, cancelled) or never being sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) without_response: Option<u64>,
}

/// The outcome of one SLO in a word. Reports show a verdict from here only (badge,
/// colour, JUnit failure), so a new level needs a variant, not a change to every report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// A `target` SLO missed: reported, not failing (unless `--strict`).
    Warn,
    Fail,
}

impl Status {
    /// `PASS`, `WARN` or `FAIL`, as reports print it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }

    /// ✅, ⚠️ or ❌, for Markdown.
    pub(crate) fn emoji(self) -> &'static str {
        match self {
            Status::Pass => "✅",
            Status::Warn => "⚠️",
            Status::Fail => "❌",
        }
    }
}

/// Where a time-aware SLO's measured value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WindowVerdict {
    /// The worst window (the stage; the last drift stretch), seconds from the start.
    pub from_s: f64,
    pub to_s: f64,
    /// Windows evaluated, and how many of them breached.
    pub(crate) windows: u64,
    pub(crate) breached: u64,
    /// When the first breaching window ended, seconds from the start.
    pub first_breach_s: Option<f64>,
    /// Drift: the metric over the first and over the last stretch, as people read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) first_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_text: Option<String>,
}

/// Checks every SLO against the summary.
pub fn evaluate(slos: &[Slo], summary: &RunSummary) -> Vec<Verdict> {
    slos.iter().map(|slo| evaluate_one(slo, summary)).collect()
}

/// One SLO's verdict: what was measured for its scope, and whether that holds.
fn evaluate_one(slo: &Slo, summary: &RunSummary) -> Verdict {
    let stats = scope_stats(slo, summary);
    let outcome = summary.windows.iter().find(|w| w.slo == slo.id);
    let (measured, missing) = measured_value(slo, stats, outcome, summary);
    let threshold = &slo.threshold;
    let held = measured.is_some_and(|m| threshold.comparison.holds(m, threshold.value));
    let status = status_of(held, slo.level);
    let over = latency_over(slo, stats);
    Verdict {
        slo: slo.label(),
        scope: slo.scope_name().to_owned(),
        metric: threshold.measure.to_string(),
        comparison: threshold.comparison.symbol().to_owned(),
        measured,
        threshold: threshold.value,
        unit: threshold.measure.unit(),
        measured_text: measured.map_or_else(|| missing.to_owned(), |m| slo.format_value(m)),
        threshold_text: slo.format_value(threshold.value),
        passed: status != Status::Fail,
        level: slo.level,
        status,
        window: outcome.map(|o| window_verdict(slo, o)),
        responses: over.map(|(responses, _)| responses),
        without_response: over.map(|(_, without)| without),
    }
}

/// The requests an SLO's scope covers: all of them (business SLOs too), or one name's.
fn scope_stats<'a>(slo: &Slo, summary: &'a RunSummary) -> &'a RequestStats {
    match &slo.scope {
        SloScope::All | SloScope::Business { .. } => &summary.total,
        SloScope::Request { id: metric, .. } => &summary.requests[metric.0 as usize],
    }
}

/// The value an SLO judges (over the run, or from its windows' `outcome`), with the reason
/// shown when there is none.
fn measured_value(
    slo: &Slo,
    stats: &RequestStats,
    outcome: Option<&WindowOutcome>,
    summary: &RunSummary,
) -> (Option<f64>, &'static str) {
    match (&slo.over, outcome) {
        (Over::Run, _) => run_value(slo, stats, summary),
        // Windows judge latencies over responses too: requests without one are not "none".
        (_, Some(outcome))
            if outcome.measured.is_none()
                && slo.threshold.measure.is_latency()
                && stats.count > 0
                && stats.responses() == 0 =>
        {
            (None, "no successful responses")
        }
        (_, Some(outcome)) => (outcome.measured, outcome.missing),
        (_, None) => (None, "no requests"),
    }
}

/// A whole-run SLO's value: a business metric, the recovery time, a latency over the
/// responses, or another request figure.
fn run_value(slo: &Slo, stats: &RequestStats, summary: &RunSummary) -> (Option<f64>, &'static str) {
    match (&slo.scope, slo.threshold.measure) {
        (SloScope::Business { id, .. }, _) => {
            (summary.business[id.0 as usize].value, "no attempts")
        }
        (_, SloMeasure::Recovery) => match &summary.recovery {
            Some(r) => (
                r.recovered_after.map(|d| d.as_secs_f64() * 1e6),
                "did not recover",
            ),
            None => (None, "not probed"),
        },
        (_, metric) if metric.is_latency() => measure_latency(metric, stats),
        (_, metric) => (measure(metric, stats, summary), "no requests"),
    }
}

/// Pass when the threshold held; otherwise a warning for a target, a failure for a
/// critical SLO.
fn status_of(held: bool, level: Level) -> Status {
    match (held, level) {
        (true, _) => Status::Pass,
        (false, Level::Target) => Status::Warn,
        (false, Level::Critical) => Status::Fail,
    }
}

/// What a whole-run latency figure is over: (responses, requests without one). `None` for
/// other SLOs (a window's figure is over its own requests).
fn latency_over(slo: &Slo, stats: &RequestStats) -> Option<(u64, u64)> {
    (slo.over == Over::Run
        && slo.threshold.measure.is_latency()
        && !matches!(slo.scope, SloScope::Business { .. }))
    .then(|| {
        let responses = stats.responses();
        (responses, stats.count - responses)
    })
}

fn window_verdict(slo: &Slo, outcome: &WindowOutcome) -> WindowVerdict {
    let text = |v: Option<f64>| v.map(|v| slo.threshold.format_value(v));
    WindowVerdict {
        from_s: outcome.from_us as f64 / 1e6,
        to_s: outcome.to_us as f64 / 1e6,
        windows: outcome.windows,
        breached: outcome.breached,
        first_breach_s: outcome.first_breach_us.map(|us| us as f64 / 1e6),
        first_text: text(outcome.baseline),
        last_text: text(outcome.compared),
    }
}

/// A latency over the responses (`RequestStats::responses`), with the reason when there
/// is none. A scope with no successful response fails whatever its threshold: the times
/// of its failures do not show the target meets it.
fn measure_latency(metric: SloMeasure, stats: &RequestStats) -> (Option<f64>, &'static str) {
    const NO_SUCCESS: &str = "no successful responses";
    if stats.count == 0 {
        return (None, "no requests");
    }
    if stats.failures >= stats.count {
        return (None, NO_SUCCESS);
    }
    let service = matches!(metric, SloMeasure::ServicePercentile(_));
    let mut times = if service {
        stats.service.clone()
    } else {
        stats.latency.clone()
    };
    if let Some(apart) = &stats.no_response {
        let without = if service {
            &apart.service
        } else {
            &apart.latency
        };
        // Recorded into both with the same bounds: the subtraction cannot fail.
        if times.subtract(without).is_err() {
            return (None, "no successful responses could be told apart");
        }
    }
    if times.is_empty() {
        return (None, NO_SUCCESS);
    }
    let value = match metric {
        SloMeasure::Percentile(p) | SloMeasure::ServicePercentile(p) => {
            times.value_at_percentile(p) as f64
        }
        SloMeasure::Mean => times.mean(),
        _ => times.max() as f64,
    };
    (Some(value), NO_SUCCESS)
}

fn measure(metric: SloMeasure, stats: &RequestStats, summary: &RunSummary) -> Option<f64> {
    match metric {
        SloMeasure::Percentile(p) => stats.percentile_us(p).map(|v| v as f64),
        SloMeasure::ServicePercentile(p) => stats.service_percentile_us(p).map(|v| v as f64),
        SloMeasure::Mean => stats.mean_us(),
        SloMeasure::Max => stats.max_us().map(|v| v as f64),
        SloMeasure::ErrorRate => stats.error_rate(),
        SloMeasure::Throughput => (stats.count > 0).then(|| stats.throughput(summary.duration)),
        // Business metrics are read from the summary; recovery from the probe.
        SloMeasure::Rate | SloMeasure::Count | SloMeasure::Recovery => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::RequestNameId;
    use std::time::Duration;

    fn summary() -> RunSummary {
        let mut book = RequestStats::new("pre-reserve", "POST");
        for ms in 1..=100u64 {
            book.record_times(ms * 1000, ms * 1000, true);
        }
        book.count = 100;
        book.failures = 2;
        let mut total = book.clone();
        total.name = "Aggregated".into();
        let empty = RequestStats::new("never", "GET");
        RunSummary {
            started_at: chrono::Utc::now(),
            duration: Duration::from_secs(10),
            interrupted: false,
            requests: vec![book, empty],
            total,
            failures: vec![],
            series: vec![],
            peak_users: 1,
            checks: vec![],
            outcomes: vec![],
            business: vec![],
            outcome_conflicts: vec![],
            on_start: Default::default(),
            windows: vec![],
            aborted: None,
            bursts: vec![],
            recovery: None,
            honesty: Default::default(),
        }
    }

    fn slo(scope: SloScope, text: &str) -> Slo {
        Slo::whole_run(SloId(0), scope, Threshold::parse(text).unwrap())
    }

    #[test]
    fn measures_percentiles_rates_and_throughput() {
        let book = SloScope::Request {
            name: "pre-reserve".into(),
            id: RequestNameId(0),
        };
        let verdicts = evaluate(
            &[
                slo(book.clone(), "p95 < 96ms"),
                slo(book.clone(), "p95 < 90ms"),
                slo(SloScope::All, "error-rate < 1%"),
                slo(SloScope::All, "throughput > 9/s"),
            ],
            &summary(),
        );
        assert!(verdicts[0].passed, "{:?}", verdicts[0]);
        assert_eq!(verdicts[0].measured_text, "95ms");
        assert!(!verdicts[1].passed);
        assert!(!verdicts[2].passed);
        assert_eq!(verdicts[2].measured, Some(0.02));
        assert_eq!(verdicts[2].measured_text, "2%");
        assert!(verdicts[3].passed);
        assert_eq!(verdicts[3].measured, Some(10.0));
    }

    #[test]
    fn an_slo_with_nothing_measured_fails() {
        let never = SloScope::Request {
            name: "never".into(),
            id: RequestNameId(1),
        };
        let verdict = &evaluate(&[slo(never, "p95 < 3s")], &summary())[0];
        assert!(!verdict.passed);
        assert_eq!(verdict.measured, None);
        assert_eq!(verdict.measured_text, "no requests");
    }

    /// 17 of 17 requests refused: their few microseconds are not a latency, and a
    /// latency SLO with no successful response fails, whatever its threshold.
    #[test]
    fn a_latency_slo_never_passes_on_failures_alone() {
        let mut refused = RequestStats::new("refused", "GET");
        for _ in 0..17 {
            refused.record_times(240, 240, false);
        }
        refused.count = 17;
        refused.failures = 17;
        let mut summary = summary();
        summary.requests.push(refused);
        let scope = SloScope::Request {
            name: "refused".into(),
            id: RequestNameId(2),
        };
        let verdicts = evaluate(
            &[
                slo(scope.clone(), "p95 < 200ms"),
                slo(scope.clone(), "mean < 200ms"),
                slo(scope.clone(), "max < 200ms"),
                slo(scope, "service-p99 < 200ms"),
            ],
            &summary,
        );
        for verdict in &verdicts {
            assert_eq!(verdict.status, Status::Fail, "{verdict:?}");
            assert_eq!(verdict.measured, None, "{verdict:?}");
            assert_eq!(verdict.measured_text, "no successful responses");
        }
    }
}
