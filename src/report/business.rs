//! The terminal sections for named checks, outcomes and business metrics, shown only
//! when the plan has any.

use std::fmt::Write as _;

use super::Results;
use super::results::BusinessResult;
use crate::slo::{SloMetric, format_metric_value};

/// Appends the checks, outcomes and business metrics of `results`, when there are any.
pub fn render(out: &mut String, results: &Results) {
    if !results.checks.is_empty() {
        let _ = writeln!(out, "\nchecks:");
        for check in &results.checks {
            let rate = check.pass_rate.map_or_else(
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
    if !results.outcomes.is_empty() {
        let _ = writeln!(out, "\noutcomes:");
        for outcome in &results.outcomes {
            let _ = writeln!(
                out,
                "  {:>7}  {}.{}",
                outcome.count, outcome.request, outcome.name
            );
        }
    }
    if !results.metrics.is_empty() {
        let _ = writeln!(out, "\nbusiness metrics:");
        for metric in &results.metrics {
            let _ = writeln!(out, "  {:<28} {}", metric.name, value_text(metric));
        }
    }
}

/// `96.67% (29 of 30)` for a rate, `12` for a count, `no attempts` without any.
fn value_text(metric: &BusinessResult) -> String {
    match (metric.kind.as_str(), metric.value) {
        (_, None) => "no attempts".to_owned(),
        ("rate", Some(v)) => format!(
            "{} ({} of {})",
            format_metric_value(SloMetric::Rate, v),
            metric.count,
            metric.attempts.unwrap_or_default()
        ),
        (_, Some(v)) => format_metric_value(SloMetric::Count, v),
    }
}
