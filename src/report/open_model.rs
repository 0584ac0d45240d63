//! What open-model and time-aware runs add to the reports: the service time beside the
//! corrected latency, arrivals (due, started, dropped, scheduler lag), bursts, the
//! recovery probe, why the run stopped early, and whether its results can be trusted.
//! The terminal and JSON renderers call these; each section is absent when empty.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::ReportError;
use super::results::MachineResult;
use crate::compile::{Action, ArrivalPlan, ExecPlan, Spacing, TaskPick, WeightTable};
use crate::metrics::{RequestStats, RunSummary};
use crate::slo::format_latency_us;
use crate::units::format_duration;

/// Terminal lines printed after the request table.
pub fn terminal(exec: &ExecPlan, summary: &RunSummary) -> String {
    let mut out = String::new();
    if exec.arrivals.is_some() {
        let _ = writeln!(
            out,
            "\nlatency above counts from the instant each request was due (corrected for coordinated omission); service time counts from when it was sent:"
        );
        let _ = writeln!(
            out,
            "{:<30} {:>9} {:>9} {:>9} {:>9}",
            "service time", "median", "p95", "p99", "max"
        );
        for stats in summary.requests.iter().filter(|r| r.count > 0) {
            service_row(&mut out, &format!("{} {}", stats.method, stats.name), stats);
        }
        service_row(&mut out, "Aggregated", &summary.total);
    }
    if let Some(arrivals) = &summary.honesty.arrivals {
        let lag = |q: f64| format_latency_us(arrivals.lag.value_at_quantile(q) as f64);
        let _ = writeln!(
            out,
            "\narrivals: {} due, {} started, {} dropped (max-in-flight, or too late); scheduler lag p99 {}, max {}",
            arrivals.due,
            arrivals.started(),
            arrivals.dropped,
            lag(0.99),
            lag(1.0)
        );
    }
    for burst in &summary.bursts {
        let _ = writeln!(
            out,
            "burst of {} `{}` at {:.1}s: {} succeeded; latency fastest {}, median {}, slowest {}",
            burst.size,
            burst.name,
            burst.at_us as f64 / 1e6,
            burst.succeeded,
            format_latency_us(burst.fastest_us as f64),
            format_latency_us(burst.median_us as f64),
            format_latency_us(burst.slowest_us as f64),
        );
    }
    if let Some(recovery) = &summary.recovery {
        let _ = match recovery.recovered_after {
            Some(after) => writeln!(
                out,
                "recovery: `{}` answered well {} times in a row {} after the load ({} probes)",
                recovery.name,
                recovery.successes,
                format_latency_us(after.as_secs_f64() * 1e6),
                recovery.probes
            ),
            None => writeln!(
                out,
                "recovery: `{}` did not answer well {} times in a row before the probe gave up ({} probes)",
                recovery.name, recovery.successes, recovery.probes
            ),
        };
    }
    if let Some(aborted) = &summary.aborted {
        let _ = writeln!(
            out,
            "\nSTOPPED EARLY at {:.0}s: `{}` breached ({})",
            aborted.at_us as f64 / 1e6,
            aborted.slo,
            aborted.reason
        );
    }
    out
}

fn service_row(out: &mut String, label: &str, stats: &RequestStats) {
    let latency =
        |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |us| format_latency_us(us as f64));
    let _ = writeln!(
        out,
        "{label:<30} {:>9} {:>9} {:>9} {:>9}",
        latency(stats.service_percentile_us(50.0)),
        latency(stats.service_percentile_us(95.0)),
        latency(stats.service_percentile_us(99.0)),
        latency(stats.service_percentile_us(100.0)),
    );
}

/// Fields added to each request's JSON: the service-time percentiles and histogram.
pub fn request_fields(
    stats: &RequestStats,
    percentiles: &[f64],
    serialize_histogram: impl Fn(&hdrhistogram::Histogram<u64>) -> Result<String, ReportError>,
) -> Result<Map<String, Value>, ReportError> {
    let service: Map<String, Value> = percentiles
        .iter()
        .map(|&p| {
            let key = format!("{p}").trim_end_matches(".0").to_owned();
            (
                key,
                json!(stats.service_percentile_us(p).map(|v| v as f64 / 1000.0)),
            )
        })
        .collect();
    let mut fields = Map::new();
    fields.insert("service_percentiles_ms".into(), Value::Object(service));
    fields.insert(
        "service_histogram".into(),
        Value::from(serialize_histogram(&stats.service)?),
    );
    Ok(fields)
}

/// Top-level JSON fields: arrivals, bursts, recovery, abort and trust.
pub fn run_fields(exec: &ExecPlan, summary: &RunSummary) -> Map<String, Value> {
    let honesty = &summary.honesty;
    let mut fields = Map::new();
    fields.insert(
        "latency_measure".into(),
        Value::from(if exec.arrivals.is_some() {
            "corrected"
        } else {
            "service"
        }),
    );
    if let (Some(arrivals), Some(plan)) = (&honesty.arrivals, &exec.arrivals) {
        let schedule = &exec.schedule;
        let stages: Vec<Value> = schedule
            .stages
            .iter()
            .filter(|s| s.start < schedule.total)
            .map(|s| {
                let end = s.end().min(schedule.total);
                json!({
                    "name": s.name,
                    "start_s": s.start.as_secs_f64(),
                    "end_s": end.as_secs_f64(),
                    "from_per_s": plan.rate_at(s.start),
                    "to_per_s": plan.rate_at(end.saturating_sub(std::time::Duration::from_nanos(1))),
                })
            })
            .collect();
        fields.insert(
            "arrivals".into(),
            json!({
                "spacing": match plan.spacing {
                    Spacing::Uniform => "uniform",
                    Spacing::Poisson => "poisson",
                },
                "expected": plan.expected_total(),
                "max_in_flight": plan.max_in_flight,
                "sessions": plan.sessions,
                "stages": stages,
                "due": arrivals.due,
                "started": arrivals.started(),
                "dropped": arrivals.dropped,
                "lag_p99_ms": arrivals.lag.value_at_quantile(0.99) as f64 / 1000.0,
                "lag_max_ms": arrivals.lag.max() as f64 / 1000.0,
            }),
        );
    }
    fields.insert(
        "bursts".into(),
        summary
            .bursts
            .iter()
            .map(|b| {
                json!({
                    "name": b.name,
                    "at_s": b.at_us as f64 / 1e6,
                    "size": b.size,
                    "succeeded": b.succeeded,
                    "fastest_ms": b.fastest_us as f64 / 1000.0,
                    "median_ms": b.median_us as f64 / 1000.0,
                    "slowest_ms": b.slowest_us as f64 / 1000.0,
                })
            })
            .collect(),
    );
    if let Some(recovery) = &summary.recovery {
        fields.insert(
            "recovery".into(),
            json!({
                "request": recovery.name,
                "successes": recovery.successes,
                "recovered_after_s": recovery.recovered_after.map(|d| d.as_secs_f64()),
                "probes": recovery.probes,
            }),
        );
    }
    if let Some(aborted) = &summary.aborted {
        fields.insert(
            "aborted".into(),
            json!({
                "slo": aborted.slo,
                "at_s": aborted.at_us as f64 / 1e6,
                "reason": aborted.reason,
            }),
        );
    }
    fields.insert("trustworthy".into(), Value::from(honesty.trustworthy()));
    fields.insert("untrustworthy_reasons".into(), json!(honesty.reasons));
    fields.insert("cpu_busy".into(), json!(honesty.cpu_busy));
    fields.insert("machine".into(), machine_fields(summary));
    fields
}

/// The `machine` section: the whole machine's load and how late users' timers fired,
/// shown whether or not they made the run untrustworthy; `null` where unknown.
fn machine_fields(summary: &RunSummary) -> Value {
    let honesty = &summary.honesty;
    let machine = &honesty.machine;
    let timers = honesty.timer_lag.as_ref().filter(|h| !h.is_empty());
    let ms = |q: f64| timers.map(|h| h.value_at_quantile(q) as f64 / 1000.0);
    serde_json::to_value(MachineResult {
        cpu_steal: machine.steal,
        cpu_pressure: machine.cpu_pressure,
        load_per_core: machine.load_per_core,
        wall_s: machine.wall.as_secs_f64(),
        timers: timers.map_or(0, |h| h.len()),
        timer_lag_p99_ms: ms(0.99),
        timer_lag_max_ms: ms(1.0),
    })
    .unwrap_or(Value::Null)
}

/// `planrun check` for an arrival-rate plan: the rate over time, where arrivals go,
/// and the requests to expect.
pub fn overview(exec: &ExecPlan, arrivals: &ArrivalPlan) -> String {
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
                    let name = exec.metric_name(exec.request(*id).metric).name.clone();
                    match expected.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, n)) => *n += total * share,
                        None => expected.push((name, total * share)),
                    }
                }
            }
        }
    }
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

/// `planrun check` lines for bursts and the recovery probe, in either model.
pub fn beside_the_load(exec: &ExecPlan) -> String {
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
