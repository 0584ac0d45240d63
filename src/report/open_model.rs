//! What open-model and time-aware runs add to the reports: the service time beside the
//! corrected latency, arrivals (due, started, dropped, scheduler lag), bursts, the
//! recovery probe, why the run stopped early, and whether its results can be trusted.
//! `notes` renders them from `Results` for the terminal and HTML; `overview` and
//! `beside_the_load` say what to expect for `planrun check`.

use std::fmt::Write as _;

use super::results::{LatencyMeasure, RecoveryResult, RequestResult};
use super::{Results, text};
use crate::compile::{Action, ArrivalPlan, ExecPlan, Spacing, TaskPick, WeightTable};
use crate::units::format_duration;

/// Lines printed after the request table (and the HTML's "Load and timing"), rendered
/// from `Results`' typed sections, one per line with no blank ones; empty for a
/// closed-model run without bursts, recovery probe or early stop.
pub(crate) fn notes(results: &Results) -> String {
    let mut out = String::new();
    if results.latency_measure == LatencyMeasure::Corrected {
        service_table(&mut out, results);
    }
    if let Some(arrivals) = &results.arrivals {
        let _ = writeln!(
            out,
            "arrivals: {} due, {} started, {} dropped (max-in-flight, or too late); scheduler lag p99 {}, max {}",
            arrivals.due,
            arrivals.started,
            arrivals.dropped,
            text::latency(Some(arrivals.lag_p99_ms)),
            text::latency(Some(arrivals.lag_max_ms)),
        );
    }
    for burst in &results.bursts {
        let _ = writeln!(
            out,
            "burst of {} `{}` at {:.1}s: {} succeeded; latency fastest {}, median {}, slowest {}",
            burst.size,
            burst.name,
            burst.at_s,
            burst.succeeded,
            text::latency(Some(burst.fastest_ms)),
            text::latency(Some(burst.median_ms)),
            text::latency(Some(burst.slowest_ms)),
        );
    }
    if let Some(recovery) = &results.recovery {
        recovery_line(&mut out, recovery);
    }
    if let Some(aborted) = &results.aborted {
        let _ = writeln!(
            out,
            "STOPPED EARLY at {:.0}s: `{}` breached ({})",
            aborted.at_s, aborted.slo, aborted.reason
        );
    }
    out
}

/// The service time (sent → answered) beside the corrected latency of the table above.
fn service_table(out: &mut String, results: &Results) {
    let _ = writeln!(
        out,
        "latency above counts from the instant each request was due (corrected for coordinated omission); service time counts from when it was sent:"
    );
    let _ = writeln!(
        out,
        "{:<30} {:>9} {:>9} {:>9} {:>9}",
        "service time", "median", "p95", "p99", "max"
    );
    for request in results.requests.iter().filter(|r| r.count > 0) {
        service_row(
            out,
            &format!("{} {}", request.method, request.name),
            request,
        );
    }
    service_row(out, "Aggregated", &results.aggregate);
}

fn service_row(out: &mut String, label: &str, request: &RequestResult) {
    let at = |p: f64| {
        text::latency(
            request
                .service_percentiles_ms
                .as_ref()
                .and_then(|set| set.get(p)),
        )
    };
    let _ = writeln!(
        out,
        "{label:<30} {:>9} {:>9} {:>9} {:>9}",
        at(50.0),
        at(95.0),
        at(99.0),
        at(100.0),
    );
}

fn recovery_line(out: &mut String, recovery: &RecoveryResult) {
    let _ = match recovery.recovered_after_s {
        Some(after) => writeln!(
            out,
            "recovery: `{}` answered well {} times in a row {} after the load ({} probes)",
            recovery.request,
            recovery.successes,
            text::latency(Some(after * 1000.0)),
            recovery.probes
        ),
        None => writeln!(
            out,
            "recovery: `{}` did not answer well {} times in a row before the probe gave up ({} probes)",
            recovery.request, recovery.successes, recovery.probes
        ),
    };
}

/// `planrun check` for an arrival-rate plan: the rate over time, where arrivals go,
/// and the requests to expect.
pub(crate) fn overview(exec: &ExecPlan, arrivals: &ArrivalPlan) -> String {
    let mut out = String::new();
    let spacing = match arrivals.spacing {
        Spacing::Uniform => "evenly spaced",
        Spacing::Poisson => "Poisson",
    };
    let _ = writeln!(
        out,
        "\narrival rate (open model, {spacing}): {:.0} arrivals expected; at most {} in flight, {} sessions",
        arrivals.expected_total(),
        arrivals.max_in_flight,
        arrivals.sessions
    );
    let schedule = &exec.schedule;
    let _ = writeln!(
        out,
        "\nstages (total {}, graceful stop {}):",
        format_duration(schedule.total),
        format_duration(schedule.graceful_stop)
    );
    for stage in schedule.stages.iter().filter(|s| s.start < schedule.total) {
        let end = stage.end().min(schedule.total);
        let from = arrivals.rate_at(stage.start);
        let to = arrivals.rate_at(end.saturating_sub(std::time::Duration::from_nanos(1)));
        let what = if (from - to).abs() < 1e-9 {
            format!("hold {}", per_second(from))
        } else {
            format!("ramp {} → {}", per_second(from), per_second(to))
        };
        let _ = writeln!(
            out,
            "  {:>8} – {:<8} {:<12} {what}",
            format_duration(stage.start),
            format_duration(end),
            stage.name
        );
    }
    let expected = expected_requests(exec, arrivals);
    let all: f64 = expected.iter().map(|(_, n)| n).sum();
    let _ = writeln!(out, "\nexpected requests (each arrival runs one task):");
    for (name, n) in &expected {
        let share = if all > 0.0 { n * 100.0 / all } else { 0.0 };
        let _ = writeln!(out, "  {name:<40} {n:>10.0}  {share:>5.1}%");
    }
    let _ = writeln!(out, "  {:<40} {all:>10.0}", "total");
    out.push_str(&beside_the_load(exec));
    out
}

/// Requests to expect per request name, in the order they are first met: each arrival
/// runs one task, picked by its stream or by the class and task weights.
fn expected_requests(exec: &ExecPlan, arrivals: &ArrivalPlan) -> Vec<(String, f64)> {
    let mut expected: Vec<(String, f64)> = Vec::new();
    let class_shares = WeightTable::new(exec.classes.iter().map(|c| c.weight).collect())
        .map(|t| t.shares())
        .unwrap_or_default();
    for stream in &arrivals.streams {
        let total = stream.curve.expected_total();
        let picks: Vec<(usize, usize, f64)> = match stream.pick {
            TaskPick::Task { class, task } => vec![(class, task, 1.0)],
            TaskPick::Mix => exec
                .classes
                .iter()
                .enumerate()
                .flat_map(|(ci, class)| {
                    let class_share = class_shares.get(ci).copied().unwrap_or(0.0);
                    class
                        .picker
                        .shares()
                        .into_iter()
                        .enumerate()
                        .map(move |(ti, share)| (ci, ti, class_share * share))
                })
                .collect(),
        };
        for (class, task, share) in picks {
            for action in &exec.classes[class].tasks[task].actions {
                if let Action::Request(id) = action {
                    let name = exec.request_name(exec.request(*id).name).name.clone();
                    match expected.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, n)) => *n += total * share,
                        None => expected.push((name, total * share)),
                    }
                }
            }
        }
    }
    expected
}

/// `planrun check` lines for bursts and the recovery probe, in either model.
pub(crate) fn beside_the_load(exec: &ExecPlan) -> String {
    let mut out = String::new();
    for burst in &exec.bursts {
        let _ = writeln!(
            out,
            "  + a burst of {} `{}` at {}",
            burst.size,
            burst.name,
            format_duration(burst.at)
        );
    }
    if let Some(probe) = &exec.recovery {
        let _ = writeln!(
            out,
            "\nafter the load: poll `{}` every {} until {} good answers in a row (give up after {})",
            probe.name,
            format_duration(probe.interval),
            probe.successes,
            format_duration(probe.timeout)
        );
    }
    out
}

/// `16.67/s (1000/min)`: plans write either.
fn per_second(rate: f64) -> String {
    let trim = |x: f64| {
        let text = format!("{x:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    format!("{}/s ({}/min)", trim(rate), trim(rate * 60.0))
}
