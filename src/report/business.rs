//! The terminal sections for named checks, outcomes and business metrics.

use std::fmt::Write as _;

use crate::metrics::RunSummary;
use crate::slo::{SloMetric, format_metric_value};

/// Appends the checks, outcomes and business metrics of `summary`, when there are any.
pub fn render(out: &mut String, summary: &RunSummary) {
    if !summary.checks.is_empty() {
        let _ = writeln!(out, "\nchecks:");
        for check in &summary.checks {
            let rate = check.pass_rate().map_or_else(
                || "never ran".to_owned(),
                |r| format_metric_value(SloMetric::Rate, r),
            );
            let _ = writeln!(
                out,
                "  {:>7}  {}: {}  ({} passed, {} failed)",
                rate, check.request, check.name, check.passed, check.failed
            );
        }
    }
    if !summary.outcomes.is_empty() {
        let _ = writeln!(out, "\noutcomes:");
        for outcome in &summary.outcomes {
            let _ = writeln!(
                out,
                "  {:>7}  {}.{}",
                outcome.count, outcome.request, outcome.name
            );
        }
    }
    if !summary.business.is_empty() {
        let _ = writeln!(out, "\nbusiness metrics:");
        for metric in &summary.business {
            let value = match (metric.kind, metric.value) {
                (_, None) => "no attempts".to_owned(),
                ("rate", Some(v)) => format!(
                    "{} ({} of {})",
                    format_metric_value(SloMetric::Rate, v),
                    metric.count,
                    metric.attempts.unwrap_or_default()
                ),
                (_, Some(v)) => format_metric_value(SloMetric::Count, v),
            };
            let _ = writeln!(out, "  {:<28} {value}", metric.name);
        }
    }
}
