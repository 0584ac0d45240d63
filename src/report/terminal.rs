//! The end-of-run summary for the terminal: a table per request name, the aggregate,
//! failures by reason, and one PASS/FAIL line per SLO. Names and reasons come from plans
//! and responses: control characters in them are shown escaped (`units::printable`), so
//! no text can retitle the terminal, recolour it or forge a line.

use std::fmt::Write as _;

use super::results::RequestResult;
use super::{Results, Status, text};
use crate::units::{printable, printable_lines};

pub fn render(results: &Results) -> String {
    // Each field is escaped where it is written (a CR/LF in a name must not start a
    // line); the whole text once more, for the notes and business lines that quote names.
    printable_lines(&render_lines(results)).into_owned()
}

fn render_lines(results: &Results) -> String {
    let run = &results.run;
    let mut out = String::new();
    let status = if run.interrupted {
        " (interrupted)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "\n{} against {}: {} requests in {}{status}, {} users at peak",
        printable(&results.plan.name),
        printable(&results.plan.host),
        results.aggregate.count,
        text::duration(run.duration_s),
        run.peak_users,
    );
    requests_table(&mut out, results);
    // What open-model and time-aware runs add: service time, arrivals, bursts, recovery,
    // an early stop, and whether the load kept its schedule.
    let notes = super::open_model::notes(results);
    if !notes.is_empty() {
        let _ = write!(out, "\n{notes}");
    }

    // Shown whether or not it trips: a busy machine is context for every latency.
    if let Some(machine) = &results.machine {
        let _ = writeln!(out, "\n{}", text::machine(machine));
    }

    failures(&mut out, results);
    super::business::render(&mut out, results);

    slos(&mut out, results);
    // Always, SLOs or not: the line CI logs are searched for, as every report words it.
    let _ = writeln!(out, "\n{}", printable(&results.verdict_line()));
    let untrustworthy = text::untrustworthy(&results.untrustworthy_reasons);
    if !untrustworthy.is_empty() {
        let _ = write!(out, "\n{untrustworthy}");
    }
    if let Some(warning) = text::tls_warning(results) {
        let _ = writeln!(out, "\n{warning}");
    }
    out
}

/// One row per request name that completed a request, then `Aggregated`.
fn requests_table(out: &mut String, results: &Results) {
    let width = results
        .requests
        .iter()
        .map(|r| label(r).chars().count())
        .max()
        .unwrap_or(10)
        .max(10);
    let _ = writeln!(
        out,
        "\n{:<width$}  {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "request", "requests", "failures", "median", "p95", "p99", "max", "req/s"
    );
    for request in results.requests.iter().filter(|r| r.count > 0) {
        row(out, &label(request), request, width);
    }
    row(out, "Aggregated", &results.aggregate, width);
}

/// The 20 most frequent failure reasons.
fn failures(out: &mut String, results: &Results) {
    if !results.failures.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for failure in results.failures.iter().take(20) {
            let _ = writeln!(
                out,
                "  {:>7}  {} {}: {}",
                failure.count,
                printable(&failure.method),
                printable(&failure.name),
                printable(&failure.reason)
            );
        }
        if results.failures.len() > 20 {
            let _ = writeln!(
                out,
                "  … {} more reasons in summary.json",
                results.failures.len() - 20
            );
        }
    }
}

/// One PASS/WARN/FAIL line per SLO, with where a windowed one was measured.
fn slos(out: &mut String, results: &Results) {
    if !results.slos.is_empty() {
        let _ = writeln!(out, "\nSLOs:");
        for slo in &results.slos {
            let _ = write!(
                out,
                "  {}  {:<40} measured {}",
                slo.status.label(),
                printable(&slo.title()),
                printable(&slo.measured_over())
            );
            if let Some(window) = &slo.window {
                let _ = write!(out, " in {:.0}s–{:.0}s", window.from_s, window.to_s);
                if let Some(first) = window.first_breach_s {
                    let _ = write!(out, ", first breached at {first:.0}s");
                }
            }
            if slo.status == Status::Warn && results.verdict.fails(slo.status) {
                out.push_str(" (fails the run: --strict)");
            }
            out.push('\n');
        }
    }
}

/// `GET checkout`, escaped.
fn label(request: &RequestResult) -> String {
    format!(
        "{} {}",
        printable(&request.method),
        printable(&request.name)
    )
}

fn row(out: &mut String, label: &str, request: &RequestResult, width: usize) {
    let latency = &request.latency;
    let _ = writeln!(
        out,
        "{label:<width$}  {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8}",
        request.count,
        text::failures(request.failures, request.count),
        text::latency(latency.percentiles_ms.get(50.0)),
        text::latency(latency.percentiles_ms.get(95.0)),
        text::latency(latency.percentiles_ms.get(99.0)),
        text::latency(latency.max_ms),
        text::rate(request.rps),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::fixture;

    #[test]
    fn renders_the_fixture() {
        insta::assert_snapshot!(render(&fixture::results()));
    }

    #[test]
    fn renders_open_model_notes_from_the_typed_sections() {
        let text = render(&fixture::open_results());
        for line in [
            "service time                      median       p95       p99       max",
            "POST checkout                       40ms     120ms     160ms     320ms",
            "Aggregated                           2ms       6ms       8ms      16ms",
            "arrivals: 90 due, 80 started, 10 dropped (max-in-flight, or too late); \
             scheduler lag p99 500us, max 1.2ms",
            "burst of 5 `<book>` at 3.0s: 4 succeeded; latency fastest 2ms, median 3.5ms, \
             slowest 12.5ms",
            "recovery: `health` answered well 3 times in a row 1.5s after the load (4 probes)",
            "STOPPED EARLY at 25s: `error-rate < 1%` breached (error-rate 20% in 20s–30s)",
        ] {
            assert!(text.contains(line), "{line:?} not in:\n{text}");
        }
        // A request that never ran has no row; the closed-model fixture has no notes.
        assert!(!text.contains("GET never-ran"), "{text}");
        assert!(!render(&fixture::results()).contains("service time"));
    }

    /// What a terminal or a Markdown viewer would act on rather than show.
    fn assert_inert(text: &str) {
        for c in ['\u{1b}', '\u{7}', '\0', '\u{202e}', '\r'] {
            assert!(!text.contains(c), "{c:?} reached the output: {text:?}");
        }
    }

    #[test]
    fn control_characters_in_names_and_reasons_are_shown_escaped() {
        let text = render(&fixture::hostile_results());
        assert_inert(&text);
        assert!(
            text.contains(r"\e]0;owned\a\e[31m\0\u{202e}gpj.exe\r\n| **x**"),
            "{text}"
        );
        // The names stay on their own line: a CR/LF in one cannot forge another.
        assert!(!text.lines().any(|l| l.starts_with("| **x**")), "{text}");
    }
}
