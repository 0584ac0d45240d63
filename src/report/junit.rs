//! `junit.xml`: the SLO verdicts as JUnit test results, so GitHub, GitLab and Jenkins show
//! them natively. One `<testsuite>` for the plan, one `<testcase>` per SLO, its status
//! from the run's verdict (`Results::verdict`, the same as every report and the exit
//! code):
//!
//! - an SLO that fails the run (a FAIL, or a WARN under `--strict`) has a `<failure>`
//!   whose message says the status, measured vs threshold;
//! - a missed target that does not fail the run (WARN) is `<skipped message="WARN: …">`:
//!   the one non-failing state that dorny/test-reporter, mikepenz/action-junit-report,
//!   GitLab and Jenkins all show apart from a pass (none of them shows properties, and
//!   `<system-out>` only in a test's detail view), so the warning is seen without failing
//!   the job. The message starts with `WARN` and says it was measured, not skipped;
//! - every test case carries a `<system-out>` with its status and the measured value.
//!
//! The layout is the common one CI tools read (Jenkins' and Ant's JUnit schemas);
//! quick-xml escapes. docs/results-schema.md ("junit.xml") says the same for users.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::results::SloResult;
use super::{RenderError, Results, Status, text};
use crate::units::printable;

pub(crate) fn render(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut xml = Writer::new_with_indent(Vec::new(), b' ', 2);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let tests = results.slos.len().to_string();
    let failures = results.failed_slos().count().to_string();
    let skipped = results
        .slos
        .iter()
        .filter(|s| is_warning(results, s))
        .count();
    let skipped = skipped.to_string();
    let time = format!("{:.3}", results.run.duration_s);
    let counts = [
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", "0"),
    ];
    xml.create_element("testsuites")
        .with_attribute(("name", "planrun"))
        .with_attributes(counts)
        .with_attribute(("time", time.as_str()))
        .write_inner_content(|xml| {
            let timestamp = results
                .run
                .started_at
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string();
            xml.create_element("testsuite")
                .with_attribute(("name", results.plan.name.as_str()))
                .with_attributes(counts)
                .with_attributes([
                    ("skipped", skipped.as_str()),
                    ("time", time.as_str()),
                    ("timestamp", timestamp.as_str()),
                ])
                .write_inner_content(|xml| {
                    properties(xml, results)?;
                    for slo in &results.slos {
                        testcase(xml, results, slo, &time)?;
                    }
                    let beside = beside_the_verdict(results);
                    if !beside.is_empty() {
                        xml.create_element("system-out")
                            .write_text_content(BytesText::new(&beside))?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    let mut bytes = xml.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

fn properties(xml: &mut Writer<Vec<u8>>, results: &Results) -> std::io::Result<()> {
    let run = &results.run;
    let aggregate = &results.aggregate;
    let values = [
        ("plan.file", results.plan.file.clone()),
        ("host", results.plan.host.clone()),
        ("seed", results.plan.seed.to_string()),
        (
            "started_at",
            run.started_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ),
        ("peak_users", run.peak_users.to_string()),
        ("requests", aggregate.count.to_string()),
        ("failures", aggregate.failures.to_string()),
        ("interrupted", run.interrupted.to_string()),
        (
            "verdict",
            format!("{:?}", results.verdict.status).to_lowercase(),
        ),
        ("strict", results.verdict.strict.to_string()),
        ("exit_code", results.verdict.exit_code.to_string()),
        ("planrun.version", results.planrun_version.clone()),
    ];
    // Recorded since planrun judged its own limits; absent from older summary.json files.
    let trustworthy = results.trustworthy.map(|t| ("trustworthy", t.to_string()));
    let machine = results
        .machine
        .as_ref()
        .map(|m| ("machine", text::machine(m)));
    let values: Vec<_> = values
        .into_iter()
        .chain(trustworthy)
        .chain(machine)
        .collect();
    xml.create_element("properties")
        .write_inner_content(|xml| {
            for (name, value) in &values {
                xml.create_element("property")
                    .with_attributes([("name", *name), ("value", value.as_str())])
                    .write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}

/// What the terminal says beside the verdict, which it does not change, in its words:
/// why the results cannot be trusted, the machine's load, users whose on-start failed,
/// responses that met exclusive outcomes together. Empty when there is nothing to say.
fn beside_the_verdict(results: &Results) -> String {
    let mut out = text::untrustworthy(&results.untrustworthy_reasons);
    let mut line = |text: &str| {
        out.push_str(&printable(text));
        out.push('\n');
    };
    if let Some(machine) = &results.machine {
        line(&text::machine(machine));
    }
    if let Some(on_start) = results.on_start.filter(|o| o.users_failed > 0) {
        line(&text::on_start_failures(&on_start));
    }
    if !results.outcome_conflicts.is_empty() {
        line(text::OUTCOME_CONFLICTS);
        for conflict in &results.outcome_conflicts {
            line(&format!("  {}", text::outcome_conflict(conflict)));
        }
    }
    out
}

/// A missed target that does not fail the run.
fn is_warning(results: &Results, slo: &SloResult) -> bool {
    slo.status == Status::Warn && !results.verdict.fails(slo.status)
}

fn testcase(
    xml: &mut Writer<Vec<u8>>,
    results: &Results,
    slo: &SloResult,
    time: &str,
) -> std::io::Result<()> {
    let case = xml.create_element("testcase").with_attributes([
        ("name", slo.slo.as_str()),
        ("classname", results.plan.name.as_str()),
        ("time", time),
    ]);
    let mut measured = format!(
        "measured {} vs threshold {} {}",
        slo.measured_text, slo.comparison, slo.threshold_text
    );
    if let Some(over) = slo.over() {
        measured.push_str(&format!(" ({over})"));
    }
    let fails = results.verdict.fails(slo.status);
    let message = match slo.status {
        Status::Warn if fails => {
            format!("WARN (target missed), failing the run under --strict: {measured}")
        }
        Status::Warn => {
            format!("WARN (target missed, a warning: exit 0 unless --strict): {measured}")
        }
        status => format!("{}: {measured}", status.label()),
    };
    let detail = format!(
        "{}: {message}, over a {:.1} s run (scope: {})",
        slo.slo, results.run.duration_s, slo.scope
    );
    case.write_inner_content(|xml| {
        if fails {
            let kind = if slo.status == Status::Warn {
                "target missed under --strict"
            } else {
                "SLO breached"
            };
            xml.create_element("failure")
                .with_attributes([("message", message.as_str()), ("type", kind)])
                .write_text_content(BytesText::new(&detail))?;
        } else if slo.status == Status::Warn {
            xml.create_element("skipped")
                .with_attribute(("message", message.as_str()))
                .write_empty()?;
        }
        xml.create_element("system-out")
            .write_text_content(BytesText::new(&message))?;
        Ok(())
    })?;
    Ok(())
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
    fn a_missed_target_is_skipped_with_a_warning_and_a_failure_under_strict() {
        let mut results = fixture::results();
        for slo in &mut results.slos {
            slo.status = Status::Pass;
        }
        results.slos[1].status = Status::Warn;
        results.verdict = results.judged_from_slos();
        let text = String::from_utf8(render(&results).unwrap()).unwrap();
        assert!(
            text.contains(r#"failures="0" errors="0" skipped="1""#),
            "{text}"
        );
        assert!(text.contains(r#"<skipped message="WARN (target missed, a warning"#));
        assert!(text.contains("<system-out>WARN (target missed"));
        assert!(!text.contains("<failure "));

        results.verdict = crate::slo::RunVerdict::judge(
            results.slos.iter().map(|s| s.status),
            true,
            false,
            false,
        );
        let strict = String::from_utf8(render(&results).unwrap()).unwrap();
        assert!(
            strict.contains(r#"failures="1" errors="0" skipped="0""#),
            "{strict}"
        );
        assert!(
            strict.contains(
                r#"<failure message="WARN (target missed), failing the run under --strict"#
            )
        );
        assert!(strict.contains(r#"type="target missed under --strict""#));
    }

    #[test]
    fn says_when_results_cannot_be_trusted_and_what_else_went_wrong() {
        let results = fixture::troubled_results();
        let text = String::from_utf8(render(&results).unwrap()).unwrap();
        // The verdict stays as the SLOs decided it; the doubt is said beside it.
        assert!(text.contains(r#"<property name="verdict" value="fail"/>"#));
        assert!(
            text.contains(r#"<property name="trustworthy" value="false"/>"#),
            "{text}"
        );
        assert!(text.contains(concat!(
            r#"<property name="machine" value="machine: CPU pressure 12.0% of the run, "#,
            "CPU steal 0.3%, load 1.40 per core; think-time timers late p99 812us, ",
            r#"max 3.2ms (1204 timers)"/>"#
        )));
        // The suite's own output, after its test cases, as the schema orders them.
        let suite_out = text
            .rsplit_once("</testcase>")
            .map(|(_, tail)| tail)
            .unwrap();
        for line in [
            "results NOT TRUSTWORTHY: planrun measured itself as much as the target:",
            "  - planrun hit its open-file limit (256): raise it with `ulimit -n`",
            "  - &lt;b&gt;late&lt;/b&gt; | by 2s &amp; more",
            "machine: CPU pressure 12.0% of the run",
            "on-start failed for 3 users: they ran no task until it succeeded (12 retries)",
            "  9 responses of `checkout` met exclusive outcomes `created` and `over|lap` together",
        ] {
            assert!(suite_out.contains(line), "{line} not in:\n{suite_out}");
        }
        assert!(
            suite_out.trim_start().starts_with("<system-out>"),
            "{suite_out}"
        );

        let trusted = fixture::results();
        let text = String::from_utf8(render(&trusted).unwrap()).unwrap();
        assert!(
            !text.contains(r#"name="trustworthy""#),
            "unrecorded: {text}"
        );
        let mut trusted = fixture::troubled_results();
        trusted.trustworthy = Some(true);
        trusted.untrustworthy_reasons.clear();
        let text = String::from_utf8(render(&trusted).unwrap()).unwrap();
        assert!(text.contains(r#"<property name="trustworthy" value="true"/>"#));
        assert!(!text.contains("NOT TRUSTWORTHY"), "{text}");
    }

    #[test]
    fn one_failure_per_failing_slo() {
        let mut results = fixture::results();
        let text = |r: &Results| String::from_utf8(render(r).unwrap()).unwrap();
        assert_eq!(text(&results).matches("<failure ").count(), 1);
        for slo in &mut results.slos {
            slo.status = crate::report::Status::Fail;
        }
        let all_failed = text(&results);
        let n = results.slos.len();
        assert_eq!(all_failed.matches("<failure ").count(), n);
        assert!(
            all_failed.contains(&format!(r#"tests="{n}" failures="{n}""#)),
            "{all_failed}"
        );
    }
}
