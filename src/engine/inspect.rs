//! Applies a request's compiled `Inspection` to its response: extracted user variables,
//! check results and the outcomes that held. The body is parsed as JSON at most once.
//! A body cut at `max-body` is inspected as kept; a body-reading extraction or check
//! that then fails says so in its failure reason.

use std::collections::BTreeMap;

use minijinja::Value as TemplateValue;
use serde_json::Value;

use super::sample::Failure;
use super::transport::Response;
use crate::compile::inspect::{Check, Extraction, Predicate, Source, Subject};
use crate::compile::{CheckId, OutcomeId};
use crate::compile::{Inspection, Templates};
use crate::units::ByteSize;

/// What inspecting one response found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inspected {
    /// Every check that ran, and whether it passed.
    pub(crate) checks: Vec<(CheckId, bool)>,
    /// The outcomes that held.
    pub(crate) outcomes: Vec<OutcomeId>,
    /// Outcomes declared exclusive that held together, one list per group (usually none).
    pub(crate) conflicts: Vec<Vec<OutcomeId>>,
}

/// What inspecting a response found.
#[derive(Debug, Default)]
pub(super) struct Findings {
    /// The first extraction that found nothing, or the first failing check that fails
    /// its request.
    pub(crate) failure: Option<Failure>,
    pub(crate) inspected: Option<Box<Inspected>>,
    /// User variables to set, in plan order.
    pub(crate) variables: Vec<(String, TemplateValue)>,
}

/// Inspects `response`, whose body was kept up to `max_body`. `accepted` says whether its
/// status was one the request expects: extraction and checks only make sense then;
/// outcomes classify any response.
pub(super) fn inspect(
    inspection: &Inspection,
    templates: &Templates,
    response: &Response,
    accepted: bool,
    max_body: ByteSize,
) -> Findings {
    let mut findings = Findings::default();
    if !inspection.is_needed() {
        return findings;
    }
    let text = String::from_utf8_lossy(&response.body);
    let json: Option<Value> = if inspection.reads_json() {
        serde_json::from_slice(&response.body).ok()
    } else {
        None
    };
    let json = json.as_ref();
    let mut inspected = Inspected::default();
    if accepted {
        (findings.variables, findings.failure) =
            extract_all(&inspection.extract, response, &text, json, max_body);
        inspected.checks = check_all(
            &inspection.checks,
            response,
            &text,
            json,
            max_body,
            &mut findings.failure,
        );
    }
    if !inspection.outcomes.is_empty() {
        inspected.outcomes = outcomes_held(inspection, templates, response, &text, json);
        inspected.conflicts = conflicts(&inspection.exclusive, &inspected.outcomes);
    }
    if !(inspected.checks.is_empty() && inspected.outcomes.is_empty()) {
        findings.inspected = Some(Box::new(inspected));
    }
    findings
}

/// Runs the extractions on a response (its body as `text` and as `json`): gives the user
/// variables to set, in plan order, and the failure of the first that found nothing.
fn extract_all(
    extractions: &[Extraction],
    response: &Response,
    text: &str,
    json: Option<&Value>,
    max_body: ByteSize,
) -> (Vec<(String, TemplateValue)>, Option<Failure>) {
    let mut variables = Vec::new();
    let mut failure = None;
    for extraction in extractions {
        match extract(&extraction.source, response, text, json) {
            Some(value) => variables.push((extraction.variable.clone(), value)),
            None if extraction.optional => {
                variables.push((extraction.variable.clone(), TemplateValue::from(())));
            }
            None => {
                failure.get_or_insert_with(|| {
                    let found_nothing = format!(
                        "`{}` ({}) found nothing",
                        extraction.variable, extraction.described
                    );
                    Failure::Extract(match cut(response, max_body) {
                        Some(cut) if extraction.source.reads_body() => {
                            format!("{cut}; {found_nothing}")
                        }
                        _ => found_nothing,
                    })
                });
            }
        }
    }
    (variables, failure)
}

/// Runs the checks on a response (its body as `text` and as `json`): gives each check's
/// result, and sets `failure`, unless already set, to the first failing check that
/// fails its request.
fn check_all(
    checks: &[Check],
    response: &Response,
    text: &str,
    json: Option<&Value>,
    max_body: ByteSize,
    failure: &mut Option<Failure>,
) -> Vec<(CheckId, bool)> {
    let mut results = Vec::new();
    for check in checks {
        let passed = holds(check, response, text, json);
        results.push((check.id, passed));
        if !passed && check.fail {
            failure.get_or_insert_with(|| match cut(response, max_body) {
                Some(cut) if check.subject.reads_body() => {
                    Failure::Check(format!("{} ({cut})", check.name))
                }
                _ => Failure::Check(check.name.clone()),
            });
        }
    }
    results
}

/// Evaluates the outcome conditions on a response (its body as `text` and as `json`):
/// gives the outcomes that held, in plan order.
fn outcomes_held(
    inspection: &Inspection,
    templates: &Templates,
    response: &Response,
    text: &str,
    json: Option<&Value>,
) -> Vec<OutcomeId> {
    let context = outcome_context(response, text, json);
    inspection
        .outcomes
        .iter()
        .filter(|outcome| templates.holds(outcome.condition, &context))
        .map(|outcome| outcome.id)
        .collect()
}

/// Given the outcomes that held, gives each `exclusive` group of which more than one
/// held, as the outcomes of it that did.
fn conflicts(exclusive: &[Vec<OutcomeId>], held: &[OutcomeId]) -> Vec<Vec<OutcomeId>> {
    let mut conflicts = Vec::new();
    if held.len() < 2 {
        return conflicts;
    }
    for group in exclusive {
        let met: Vec<_> = group
            .iter()
            .filter(|id| held.contains(id))
            .copied()
            .collect();
        if met.len() > 1 {
            conflicts.push(met);
        }
    }
    conflicts
}

/// Why a body-reading extraction or check may have failed: the body was cut at the cap.
/// The cap, not the body's length, so that one reason covers every oversized body.
fn cut(response: &Response, max_body: ByteSize) -> Option<String> {
    response
        .truncated
        .then(|| format!("body over `max-body` ({max_body}): only the first {max_body} was kept"))
}

fn extract(
    source: &Source,
    response: &Response,
    text: &str,
    json: Option<&Value>,
) -> Option<TemplateValue> {
    match source {
        Source::Json(query) => json
            .and_then(|json| query.first(json))
            .filter(|value| !value.is_null())
            .map(TemplateValue::from_serialize),
        Source::Regex(regex) => {
            let captures = regex.captures(text)?;
            let found = captures.get(1).or_else(|| captures.get(0))?;
            Some(TemplateValue::from(found.as_str()))
        }
        Source::Header(name) => response
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(TemplateValue::from),
        Source::Cookie(name) => response
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|cookie| {
                let pair = cookie.split(';').next()?;
                let (key, value) = pair.split_once('=')?;
                (key.trim() == name).then(|| TemplateValue::from(value.trim()))
            }),
        Source::Status => Some(TemplateValue::from(response.status)),
    }
}

fn holds(check: &Check, response: &Response, text: &str, json: Option<&Value>) -> bool {
    let subject: Option<Value> = match &check.subject {
        Subject::Json(query) => json.and_then(|json| query.first(json)).cloned(),
        Subject::Header(name) => response
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| Value::from(v.to_owned())),
        Subject::Status => Some(Value::from(response.status)),
        Subject::Body => (!text.is_empty()).then(|| Value::from(text.to_owned())),
    };
    let as_text = |value: &Value| match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // The null rule (see `compile::templates::null`): a JSON null is no value, so it
    // does not exist and contains or matches nothing; `is-null` and `equals` see it.
    let value = subject.as_ref().filter(|s| !s.is_null());
    match &check.predicate {
        Predicate::Exists(wanted) => value.is_some() == *wanted,
        Predicate::Equals(expected) => subject.as_ref() == Some(expected),
        Predicate::In(values) => subject.as_ref().is_some_and(|s| values.contains(s)),
        Predicate::IsNull => subject.is_none_or(|s| s.is_null()),
        Predicate::Contains(needle) => value.is_some_and(|s| as_text(s).contains(needle)),
        Predicate::Matches(regex) => value.is_some_and(|s| regex.is_match(&as_text(s))),
        Predicate::StatusIn(set) => set.contains(response.status),
    }
}

/// `status`, `json` (none when the body is not JSON), `body` and `headers` (lower-case
/// names) for outcome conditions.
fn outcome_context(response: &Response, text: &str, json: Option<&Value>) -> TemplateValue {
    let headers: BTreeMap<&str, &str> = response
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    minijinja::context! {
        status => response.status,
        json => json.map_or(TemplateValue::from(()), TemplateValue::from_serialize),
        body => text,
        headers => headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::CheckId;
    use crate::compile::inspect::{Extraction, JsonQuery};
    use http::header::{HeaderMap, HeaderName};

    const CUT: &str = "body over `max-body` (64KiB): only the first 64KiB was kept";

    fn extraction(variable: &str, source: Source, described: &str) -> Extraction {
        Extraction {
            variable: variable.to_owned(),
            source,
            optional: false,
            described: described.to_owned(),
        }
    }

    fn check(subject: Subject) -> Check {
        Check {
            id: CheckId(0),
            name: "id is 42".to_owned(),
            subject,
            predicate: Predicate::Equals(Value::from(42)),
            fail: true,
        }
    }

    /// A JSON body's start, as kept when `truncated` (it does not parse).
    fn response(truncated: bool) -> Response {
        Response {
            status: 200,
            bytes: 100_000,
            headers: HeaderMap::new(),
            body: br#"{"id":42,"pad":"xxxx"#.to_vec(),
            truncated,
        }
    }

    fn failure(inspection: &Inspection, response: &Response) -> Option<String> {
        inspect(
            inspection,
            &Templates::new(),
            response,
            true,
            ByteSize::kib(64),
        )
        .failure
        .map(|f| f.to_string())
    }

    #[test]
    fn a_body_reading_extraction_on_a_cut_body_says_it_was_cut() {
        let json = Inspection {
            extract: vec![extraction(
                "id",
                Source::Json(JsonQuery::Pointer("/id".into())),
                "json /id",
            )],
            ..Inspection::default()
        };
        assert_eq!(
            failure(&json, &response(true)).as_deref(),
            Some(format!("extract: {CUT}; `id` (json /id) found nothing").as_str())
        );
        // The same body, whole but malformed: no word of a cap.
        assert_eq!(
            failure(&json, &response(false)).as_deref(),
            Some("extract: `id` (json /id) found nothing")
        );
        let regex = Inspection {
            extract: vec![extraction(
                "end",
                Source::Regex(regex::Regex::new(r#""end":(\d+)"#).unwrap()),
                "regex",
            )],
            ..Inspection::default()
        };
        assert!(failure(&regex, &response(true)).unwrap().contains(CUT));
    }

    #[test]
    fn a_header_extraction_is_not_blamed_on_a_cut_body() {
        let header = Inspection {
            extract: vec![extraction(
                "token",
                Source::Header(HeaderName::from_static("x-token")),
                "header x-token",
            )],
            ..Inspection::default()
        };
        assert_eq!(
            failure(&header, &response(true)).as_deref(),
            Some("extract: `token` (header x-token) found nothing")
        );
    }

    #[test]
    fn a_failing_check_on_a_cut_body_says_it_was_cut() {
        let json = Inspection {
            checks: vec![check(Subject::Json(JsonQuery::Pointer("/id".into())))],
            ..Inspection::default()
        };
        assert_eq!(
            failure(&json, &response(true)).as_deref(),
            Some(format!("check failed: id is 42 ({CUT})").as_str())
        );
        assert_eq!(
            failure(&json, &response(false)).as_deref(),
            Some("check failed: id is 42")
        );
        let header = Inspection {
            checks: vec![check(Subject::Header(HeaderName::from_static("x-id")))],
            ..Inspection::default()
        };
        assert_eq!(
            failure(&header, &response(true)).as_deref(),
            Some("check failed: id is 42")
        );
    }

    #[test]
    fn what_the_kept_start_holds_is_still_found() {
        let regex = Inspection {
            extract: vec![extraction(
                "id",
                Source::Regex(regex::Regex::new(r#""id":(\d+)"#).unwrap()),
                "regex",
            )],
            ..Inspection::default()
        };
        let findings = inspect(
            &regex,
            &Templates::new(),
            &response(true),
            true,
            ByteSize::kib(64),
        );
        assert!(findings.failure.is_none());
        assert_eq!(findings.variables[0].1.to_string(), "42");
    }
}
