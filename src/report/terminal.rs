//! The end-of-run summary for the terminal: a table per request name, the aggregate,
//! failures by reason, and one PASS/FAIL line per SLO.

use std::fmt::Write as _;

use super::RunReport;
use crate::metrics::RequestStats;
use crate::slo::format_latency_us;
use crate::units::format_duration;

pub fn render(report: &RunReport) -> String {
    let summary = report.summary;
    let mut out = String::new();
    let status = if summary.interrupted {
        " (interrupted)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "\n{} against {}: {} requests in {}{status}, {} {} at peak",
        report.exec.name,
        report.exec.host,
        summary.total.count,
        format_duration(std::time::Duration::from_millis(
            summary.duration.as_millis() as u64
        )),
        summary.peak_users,
        // Open model: no users, but arrivals running (or waiting for a session) at once.
        if report.exec.arrivals.is_some() {
            "in flight"
        } else {
            "users"
        },
    );
    let width = summary
        .requests
        .iter()
        .map(|r| r.name.len() + r.method.len() + 1)
        .max()
        .unwrap_or(10)
        .max(10);
    let _ = writeln!(
        out,
        "\n{:<width$}  {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "request", "requests", "failures", "median", "p95", "p99", "max", "req/s"
    );
    for stats in summary.requests.iter().filter(|r| r.count > 0) {
        row(
            &mut out,
            &format!("{} {}", stats.method, stats.name),
            stats,
            report,
            width,
        );
    }
    row(&mut out, "Aggregated", &summary.total, report, width);
    out.push_str(&super::open_model::terminal(report));

    if !summary.failures.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for failure in summary.failures.iter().take(20) {
            let _ = writeln!(
                out,
                "  {:>7}  {} {}: {}",
                failure.count, failure.method, failure.name, failure.reason
            );
        }
        if summary.failures.len() > 20 {
            let _ = writeln!(
                out,
                "  … {} more reasons in summary.json",
                summary.failures.len() - 20
            );
        }
    }

    if !report.verdicts.is_empty() {
        let _ = writeln!(out, "\nSLOs:");
        for verdict in report.verdicts {
            let mark = verdict.status.label();
            let _ = write!(
                out,
                "  {mark}  {:<40} measured {}",
                verdict.slo, verdict.measured_text
            );
            if let Some(window) = &verdict.window {
                let _ = write!(out, " in {:.0}s–{:.0}s", window.from_s, window.to_s);
                if let Some(first) = window.first_breach_s {
                    let _ = write!(out, ", first breached at {first:.0}s");
                }
            }
            out.push('\n');
        }
        let failed = report.verdicts.iter().filter(|v| !v.passed).count();
        let warned = report
            .verdicts
            .iter()
            .filter(|v| v.status == crate::slo::Status::Warn)
            .count();
        let warned_text = if warned > 0 {
            format!(", {warned} missed their target (WARN)")
        } else {
            String::new()
        };
        if failed == 0 && warned > 0 {
            let _ = writeln!(out, "\nno SLO failed{warned_text}");
        } else if failed == 0 {
            let _ = writeln!(out, "\nall {} SLOs passed", report.verdicts.len());
        } else {
            let _ = writeln!(
                out,
                "\n{failed} of {} SLOs failed{warned_text}",
                report.verdicts.len()
            );
        }
    }
    out.push_str(&super::open_model::trust_line(summary));
    out
}

fn row(out: &mut String, label: &str, stats: &RequestStats, report: &RunReport, width: usize) {
    let latency =
        |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |us| format_latency_us(us as f64));
    let _ = writeln!(
        out,
        "{label:<width$}  {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8.1}",
        stats.count,
        failures_text(stats),
        latency(stats.percentile_us(50.0)),
        latency(stats.percentile_us(95.0)),
        latency(stats.percentile_us(99.0)),
        latency(stats.max_us()),
        stats.throughput(report.summary.duration),
    );
}

fn failures_text(stats: &RequestStats) -> String {
    match stats.error_rate() {
        Some(rate) if stats.failures > 0 => format!("{} ({:.1}%)", stats.failures, rate * 100.0),
        _ => "0".to_owned(),
    }
}
