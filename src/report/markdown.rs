//! `summary.md`: the verdict, the SLO table and the per-request table in GitHub-flavoured
//! Markdown, for `$GITHUB_STEP_SUMMARY` and pull-request comments. Request names and
//! other texts from the plan are escaped, so a `|` or `<b>` in a name stays text, and
//! control characters (terminal escapes, CR/LF, bidi overrides) show as escapes.

use std::fmt::Write as _;

use super::results::RequestResult;
use super::{RenderError, Results, Status, text};
use crate::units::printable;

pub(crate) fn render(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut out = String::new();
    let run = &results.run;
    let aggregate = &results.aggregate;
    let _ = writeln!(
        out,
        "## {} {}\n",
        results.status().emoji(),
        cell(&results.verdict_line())
    );
    let _ = writeln!(
        out,
        "`{}` against `{}`, started {} UTC, ran {}, {} users at peak, {} requests, \
         failures: {}\n",
        code(&results.plan.file),
        code(&results.plan.host),
        run.started_at.format("%Y-%m-%d %H:%M:%S"),
        text::duration(run.duration_s),
        run.peak_users,
        aggregate.count,
        text::failures(aggregate.failures, aggregate.count),
    );
    if let Some(command) = &results.plan.command {
        let _ = writeln!(out, "Command: `{}`\n", code(command));
    }
    trust(&mut out, results);
    slo_table(&mut out, results);

    let _ = writeln!(
        out,
        "| request | method | requests | failures | req/s | median | p95 | p99 | max |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|"
    );
    for request in &results.requests {
        request_row(&mut out, &cell(&request.name), request);
    }
    request_row(&mut out, "**Aggregated**", aggregate);

    business_tables(&mut out, results);
    if let Some(on_start) = results.on_start.filter(|o| o.users_failed > 0) {
        let _ = writeln!(out, "\n{}", cell(&text::on_start_failures(&on_start)));
    }
    if !results.outcome_conflicts.is_empty() {
        let _ = writeln!(out, "\n**{}**\n", cell(text::OUTCOME_CONFLICTS));
        for conflict in &results.outcome_conflicts {
            let _ = writeln!(out, "- {}", cell(&text::outcome_conflict(conflict)));
        }
    }
    failures_table(&mut out, results);
    Ok(out.into_bytes())
}

/// Beside the verdict, which it does not change: whether the numbers can be trusted,
/// and the machine's load.
fn trust(out: &mut String, results: &Results) {
    if let Some(warning) = text::tls_warning(results) {
        let _ = writeln!(out, "**{}**\n", cell(warning));
    }
    if !results.untrustworthy_reasons.is_empty() {
        let _ = writeln!(out, "**{}**\n", cell(text::UNTRUSTWORTHY));
        for reason in &results.untrustworthy_reasons {
            let _ = writeln!(out, "- {}", cell(reason));
        }
        out.push('\n');
    }
    if let Some(machine) = &results.machine {
        let _ = writeln!(out, "{}\n", cell(&text::machine(machine)));
    }
}

/// One row per SLO, the run's verdict in its emoji.
fn slo_table(out: &mut String, results: &Results) {
    if !results.slos.is_empty() {
        let _ = writeln!(out, "| | SLO | measured | threshold |\n|---|---|--:|--:|");
        for slo in &results.slos {
            // Under --strict a missed target fails the run: it shows as failing, still WARN.
            let (emoji, note) = if slo.status == Status::Warn && results.verdict.fails(slo.status) {
                (Status::Fail.emoji(), " (fails the run: --strict)")
            } else {
                (slo.status.emoji(), "")
            };
            let _ = writeln!(
                out,
                "| {} {}{note} | {} | {} | {} {} |",
                emoji,
                slo.status.label(),
                cell(&slo.title()),
                cell(&slo.measured_over()),
                cell(&slo.comparison),
                cell(&slo.threshold_text),
            );
        }
        out.push('\n');
    }
}

/// Business metrics and checks, each when the plan has some.
fn business_tables(out: &mut String, results: &Results) {
    if !results.metrics.is_empty() {
        let _ = writeln!(
            out,
            "\n**Business metrics**\n\n| metric | value | counts |\n|---|--:|---|"
        );
        for metric in &results.metrics {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(&metric.name),
                cell(&text::business_value(metric)),
                cell(&metric.outcomes.join(" + ")),
            );
        }
    }
    if !results.checks.is_empty() {
        let _ = writeln!(
            out,
            "\n**Checks**\n\n| request | check | passed | failed | pass rate |\n|---|---|--:|--:|--:|"
        );
        for check in &results.checks {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&check.request),
                cell(&check.name),
                check.passed,
                check.failed,
                text::share(check.pass_rate),
            );
        }
    }
}

/// Failures by request name and reason.
fn failures_table(out: &mut String, results: &Results) {
    if !results.failures.is_empty() {
        let _ = writeln!(
            out,
            "\n**Failures**\n\n| request | method | reason | count |\n|---|---|---|--:|"
        );
        for failure in &results.failures {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&failure.name),
                cell(&failure.method),
                cell(&failure.reason),
                failure.count
            );
        }
    }
}

fn request_row(out: &mut String, label: &str, request: &RequestResult) {
    let latency = &request.latency;
    let _ = writeln!(
        out,
        "| {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
        cell(&request.method),
        request.count,
        text::failures(request.failures, request.count),
        text::rate(request.rps),
        text::latency(latency.percentiles_ms.get(50.0)),
        text::latency(latency.percentiles_ms.get(95.0)),
        text::latency(latency.percentiles_ms.get(99.0)),
        text::latency(latency.max_ms),
    );
}

/// Text for a table cell: control characters shown as escapes (`\e`, `\n`, `\u{202e}`),
/// then Markdown and HTML specials escaped, so it stays on one line and reads as written.
fn cell(text: &str) -> String {
    let text = printable(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '&' | '#' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a code span: control characters shown as escapes; backticks cannot be
/// escaped there, so they become quotes.
fn code(text: &str) -> String {
    printable(text).replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::fixture;

    #[test]
    fn renders_the_fixture() {
        let text = String::from_utf8(render(&fixture::results()).unwrap()).unwrap();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn control_characters_and_markup_in_names_are_shown_escaped() {
        let text = String::from_utf8(render(&fixture::hostile_results()).unwrap()).unwrap();
        assert_inert(&text);
        assert!(
            text.contains(r"\\e\]0;owned\\a\\e\[31m\\0\\u{202e}gpj.exe\\r\\n\| \*\*x\*\* \[a\](b)"),
            "{text}"
        );
        assert!(!text.contains("\n| **x**"), "a CR/LF forged a row: {text}");
    }

    /// What a terminal or a Markdown viewer would act on rather than show.
    fn assert_inert(text: &str) {
        for c in ['\u{1b}', '\u{7}', '\0', '\u{202e}', '\r'] {
            assert!(!text.contains(c), "{c:?} reached the output: {text:?}");
        }
    }

    #[test]
    fn says_when_results_cannot_be_trusted_and_what_else_went_wrong() {
        let text = String::from_utf8(render(&fixture::troubled_results()).unwrap()).unwrap();
        // The verdict stays as the SLOs decided it; the doubt is said beside it.
        assert!(text.starts_with("## ❌ FAILED: "), "{text}");
        for line in [
            "results NOT TRUSTWORTHY: planrun measured itself as much as the target:",
            r"- planrun hit its open-file limit (256): raise it with \`ulimit -n\`",
            r"- \<b\>late\</b\> \| by 2s \& more",
            concat!(
                "machine: CPU pressure 12.0% of the run, CPU steal 0.3%, load 1.40 per core; ",
                "think-time timers late p99 812us, max 3.2ms (1204 timers)"
            ),
            concat!(
                "on-start failed for 3 users: they ran no task until it succeeded (12 retries); ",
                r"1 stopped (\`on-start-failure: stop\`)"
            ),
            concat!(
                r"- 9 responses of \`checkout\` met exclusive outcomes \`created\` and ",
                r"\`over\|lap\` together"
            ),
        ] {
            assert!(text.contains(line), "{line} not in:\n{text}");
        }
        // A trustworthy run says nothing of it, but still shows the machine.
        let mut trusted = fixture::troubled_results();
        trusted.untrustworthy_reasons.clear();
        let text = String::from_utf8(render(&trusted).unwrap()).unwrap();
        assert!(!text.contains("NOT TRUSTWORTHY"), "{text}");
        assert!(text.contains("machine: CPU pressure 12.0%"), "{text}");
    }

    #[test]
    fn escapes_cells() {
        assert_eq!(cell("a|b <i>x</i> & c_d"), r"a\|b \<i\>x\</i\> \& c\_d");
    }
}
