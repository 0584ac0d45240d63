//! The terminal sections for named checks, outcomes and business metrics, shown only
//! when the plan has any.

use std::fmt::Write as _;

use super::{Results, text};

/// Appends the checks, outcomes and business metrics of `results`, when there are any.
pub(super) fn render(out: &mut String, results: &Results) {
    if let Some(on_start) = results.on_start.filter(|o| o.users_failed > 0) {
        let _ = writeln!(out, "\n{}", text::on_start_failures(&on_start));
    }
    if !results.checks.is_empty() {
        let _ = writeln!(out, "\nchecks:");
        for check in &results.checks {
            let rate = match check.pass_rate {
                Some(_) => text::share(check.pass_rate),
                None => "never ran".to_owned(),
            };
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
    if !results.outcome_conflicts.is_empty() {
        let _ = writeln!(out, "\n{}", text::OUTCOME_CONFLICTS);
        for conflict in &results.outcome_conflicts {
            let _ = writeln!(out, "  {}", text::outcome_conflict(conflict));
        }
    }
    if !results.metrics.is_empty() {
        let _ = writeln!(out, "\nbusiness metrics:");
        for metric in &results.metrics {
            let _ = writeln!(
                out,
                "  {:<28} {}",
                metric.name,
                text::business_value(metric)
            );
        }
    }
}
