//! `junit.xml`: the SLO verdicts as JUnit test results, so GitHub, GitLab and Jenkins show
//! them natively. One `<testsuite>` for the plan, one `<testcase>` per SLO; a failing SLO
//! carries a `<failure>` whose message says measured vs threshold. The layout is the
//! common one CI tools read (Jenkins' and Ant's JUnit schemas); quick-xml escapes.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::results::SloResult;
use super::{RenderError, Results};

pub fn render(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut xml = Writer::new_with_indent(Vec::new(), b' ', 2);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let tests = results.slos.len().to_string();
    let failures = results.failed_slos().count().to_string();
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
                    ("skipped", "0"),
                    ("time", time.as_str()),
                    ("timestamp", timestamp.as_str()),
                ])
                .write_inner_content(|xml| {
                    properties(xml, results)?;
                    for slo in &results.slos {
                        testcase(xml, results, slo, &time)?;
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
        ("planrun.version", results.planrun_version.clone()),
    ];
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
    if !slo.status.is_failure() {
        case.write_empty()?;
        return Ok(());
    }
    let message = format!(
        "measured {} vs threshold {} {}",
        slo.measured_text, slo.comparison, slo.threshold_text
    );
    let detail = format!(
        "{}: {message}, over a {:.1} s run (scope: {})",
        slo.slo, results.run.duration_s, slo.scope
    );
    case.write_inner_content(|xml| {
        xml.create_element("failure")
            .with_attributes([("message", message.as_str()), ("type", "SLO breached")])
            .write_text_content(BytesText::new(&detail))?;
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
