//! SLOs: `RunSummary` + thresholds → `Vec<Verdict>`.
//!
//! An SLO about a request that never completed fails: a check with nothing to measure
//! must not pass silently.

mod threshold;

use serde::Serialize;

use crate::compile::{BusinessId, MetricId};
use crate::metrics::{RequestStats, RunSummary};

pub use threshold::{Comparison, SloMetric, Threshold, format_latency_us, format_metric_value};

/// What an SLO is about.
#[derive(Debug, Clone, PartialEq)]
pub enum SloScope {
    /// Every request of the run.
    All,
    /// One request name.
    Request { name: String, metric: MetricId },
    /// A business metric (`metrics:` in the plan).
    Business { name: String, id: BusinessId },
}

/// A compiled SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub scope: SloScope,
    pub threshold: Threshold,
}

impl Slo {
    /// `pre-reserve: p95 < 3s`, or `all requests: error-rate < 1%`.
    pub fn label(&self) -> String {
        format!("{}: {}", self.scope_name(), self.threshold)
    }

    pub fn scope_name(&self) -> &str {
        match &self.scope {
            SloScope::All => "all requests",
            SloScope::Request { name, .. } | SloScope::Business { name, .. } => name,
        }
    }
}

/// The outcome of one SLO.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The SLO as written, with its scope: `pre-reserve: p95 < 3s`.
    pub slo: String,
    /// `all requests` or the request name.
    pub scope: String,
    /// `p95`, `mean`, `max`, `error-rate` or `throughput`.
    pub metric: String,
    /// `<`, `<=`, `>` or `>=`.
    pub comparison: String,
    /// The measured value (latencies in microseconds, error rates as fractions, throughput
    /// per second); `null` when nothing was measured.
    pub measured: Option<f64>,
    /// The threshold, in the same unit.
    pub threshold: f64,
    /// The measured value as people read it (`23.4ms`, `0.42%`), or `no requests`.
    pub measured_text: String,
    /// The threshold as people read it.
    pub threshold_text: String,
    pub passed: bool,
}

/// Checks every SLO against the summary.
pub fn evaluate(slos: &[Slo], summary: &RunSummary) -> Vec<Verdict> {
    slos.iter().map(|slo| evaluate_one(slo, summary)).collect()
}

fn evaluate_one(slo: &Slo, summary: &RunSummary) -> Verdict {
    let measured = match &slo.scope {
        SloScope::All => measure(slo.threshold.metric, &summary.total, summary),
        SloScope::Request { metric, .. } => measure(
            slo.threshold.metric,
            &summary.requests[metric.0 as usize],
            summary,
        ),
        SloScope::Business { id, .. } => summary.business[id.0 as usize].value,
    };
    let threshold = &slo.threshold;
    Verdict {
        slo: slo.label(),
        scope: slo.scope_name().to_owned(),
        metric: threshold.metric.to_string(),
        comparison: threshold.comparison.symbol().to_owned(),
        measured,
        threshold: threshold.value,
        measured_text: measured
            .map_or_else(|| "no requests".to_owned(), |m| threshold.format_value(m)),
        threshold_text: threshold.format_value(threshold.value),
        passed: measured.is_some_and(|m| threshold.comparison.holds(m, threshold.value)),
    }
}

fn measure(metric: SloMetric, stats: &RequestStats, summary: &RunSummary) -> Option<f64> {
    match metric {
        SloMetric::Percentile(p) => stats.percentile_us(p).map(|v| v as f64),
        SloMetric::Mean => stats.mean_us(),
        SloMetric::Max => stats.max_us().map(|v| v as f64),
        SloMetric::ErrorRate => stats.error_rate(),
        SloMetric::Throughput => (stats.count > 0).then(|| stats.throughput(summary.duration)),
        // Bound to business metrics only, by `compile::slos`.
        SloMetric::Rate | SloMetric::Count => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn summary() -> RunSummary {
        let mut book = RequestStats::new("pre-reserve", "POST");
        for ms in 1..=100u64 {
            book.latency.record(ms * 1000).unwrap();
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
        }
    }

    fn slo(scope: SloScope, text: &str) -> Slo {
        Slo {
            scope,
            threshold: Threshold::parse(text).unwrap(),
        }
    }

    #[test]
    fn measures_percentiles_rates_and_throughput() {
        let book = SloScope::Request {
            name: "pre-reserve".into(),
            metric: MetricId(0),
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
            metric: MetricId(1),
        };
        let verdict = &evaluate(&[slo(never, "p95 < 3s")], &summary())[0];
        assert!(!verdict.passed);
        assert_eq!(verdict.measured, None);
        assert_eq!(verdict.measured_text, "no requests");
    }
}
