//! Numbers as people read them in the terminal, Markdown and HTML reports: the same
//! `23.4ms`, `1.25s` and `0.42%` as plans and SLO verdicts write them.

use super::results::{
    BusinessResult, MachineResult, OnStartResult, OutcomeConflictResult, Results,
};
use crate::slo::{SloMeasure, format_latency_us, format_metric_value};
use crate::units::{format_duration, printable};

/// A latency in milliseconds: `812us`, `23.4ms`, `1.25s`; `-` when nothing was measured.
pub(crate) fn latency(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_owned(), |ms| format_latency_us(ms * 1000.0))
}

/// `12.3`: a rate per second.
pub(crate) fn rate(per_second: f64) -> String {
    format!("{per_second:.1}")
}

/// `3 (1.2%)`, or `0`.
pub(crate) fn failures(failures: u64, count: u64) -> String {
    if failures == 0 || count == 0 {
        return failures.to_string();
    }
    format!(
        "{failures} ({:.1}%)",
        failures as f64 * 100.0 / count as f64
    )
}

/// `4.5s`, `2m3s`: a run's length, to a tenth of a second under a minute.
pub(crate) fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        format_duration(std::time::Duration::from_secs(seconds.round() as u64))
    }
}

/// `93.33%`: a share in 0..=1 as SLOs write it; `-` when there is none.
pub(crate) fn share(fraction: Option<f64>) -> String {
    fraction.map_or_else(
        || "-".to_owned(),
        |f| format_metric_value(SloMeasure::Rate, f),
    )
}

/// `96.67% (29 of 30)` for a rate, `12` for a count, `no attempts` without any.
pub(crate) fn business_value(metric: &BusinessResult) -> String {
    match (metric.kind.as_str(), metric.value) {
        (_, None) => "no attempts".to_owned(),
        ("rate", Some(v)) => format!(
            "{} ({} of {})",
            share(Some(v)),
            metric.count,
            metric.attempts.unwrap_or_default()
        ),
        (_, Some(v)) => format_metric_value(SloMeasure::Count, v),
    }
}

/// The warning every report gives when the target's certificate was not verified.
pub(crate) fn tls_warning(results: &Results) -> Option<&'static str> {
    results.tls.as_ref().filter(|tls| !tls.verified).map(|_| {
        "warning: TLS verification was off (`tls.insecure: true`): the server's certificate was not checked, so this run did not prove it talked to the real server"
    })
}

/// The heading over `Results::untrustworthy_reasons`, in every report.
pub(crate) const UNTRUSTWORTHY: &str =
    "results NOT TRUSTWORTHY: planrun measured itself as much as the target:";

/// `UNTRUSTWORTHY` and a `  - reason` line per reason, escaped; empty when there is none.
pub(crate) fn untrustworthy(reasons: &[String]) -> String {
    if reasons.is_empty() {
        return String::new();
    }
    let mut text = format!("{UNTRUSTWORTHY}\n");
    for reason in reasons {
        text.push_str(&format!("  - {}\n", printable(reason)));
    }
    text
}

/// The heading over `outcome_conflict` lines, in every report.
pub(crate) const OUTCOME_CONFLICTS: &str = "warning: outcomes declared exclusive held together \
     (a condition is wrong, and the business metrics counting them with it):";

/// `machine: CPU pressure 12% of the run, CPU steal 0.3%, load 1.40 per core; think-time
/// timers late p99 812us, max 3.2ms (1,204 timers)`: `unknown` where unreadable.
pub(crate) fn machine(machine: &MachineResult) -> String {
    let percent = |share: Option<f64>| {
        share.map_or_else(|| "unknown".to_owned(), |s| format!("{:.1}%", s * 100.0))
    };
    let load = machine
        .load_per_core
        .map_or_else(|| "unknown".to_owned(), |l| format!("{l:.2}"));
    let mut line = format!(
        "machine: CPU pressure {} of the run, CPU steal {}, load {load} per core",
        percent(machine.cpu_pressure),
        percent(machine.cpu_steal),
    );
    if machine.timers > 0 {
        line.push_str(&format!(
            "; think-time timers late p99 {}, max {} ({} timers)",
            latency(machine.timer_lag_p99_ms),
            latency(machine.timer_lag_max_ms),
            machine.timers
        ));
    }
    line
}

/// ``9 responses of `pre-reserve` met exclusive outcomes `created` and `overlap` together``.
pub(crate) fn outcome_conflict(conflict: &OutcomeConflictResult) -> String {
    let names: Vec<String> = conflict.outcomes.iter().map(|n| format!("`{n}`")).collect();
    let names = match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    format!(
        "{} response{} of `{}` met exclusive outcomes {names} together",
        conflict.count,
        if conflict.count == 1 { "" } else { "s" },
        conflict.request
    )
}

/// ``on-start failed for 3 users: they ran no task until it succeeded (12 retries)``.
pub(crate) fn on_start_failures(on_start: &OnStartResult) -> String {
    let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut line = format!(
        "on-start failed for {}: they ran no task until it succeeded",
        plural(on_start.users_failed, "user")
    );
    if on_start.retries > 0 {
        let retries = match on_start.retries {
            1 => "1 retry".to_owned(),
            n => format!("{n} retries"),
        };
        line.push_str(&format!(" ({retries})"));
    }
    if on_start.users_stopped > 0 {
        line.push_str(&format!(
            "; {} stopped (`on-start-failure: stop`)",
            on_start.users_stopped
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(latency(Some(0.812)), "812us");
        assert_eq!(latency(Some(23.45)), "23.4ms");
        assert_eq!(latency(None), "-");
        assert_eq!(failures(3, 250), "3 (1.2%)");
        assert_eq!(failures(0, 250), "0");
        assert_eq!(duration(4.5), "4.5s");
        assert_eq!(duration(123.4), "2m3s");
    }
}
