//! Applies a request's compiled `Inspection` to its response: extracted user variables,
//! check results and the outcomes that held. The body is parsed as JSON at most once.

use std::collections::BTreeMap;

use minijinja::Value as TemplateValue;
use serde_json::Value;

use super::transport::Response;
use crate::compile::inspect::{Check, Predicate, Source, Subject};
use crate::compile::{Inspection, Templates};
use crate::metrics::{Failure, Inspected};

/// What inspecting a response found.
#[derive(Debug, Default)]
pub(super) struct Findings {
    /// The first extraction that found nothing, or the first failing check that fails
    /// its request.
    pub failure: Option<Failure>,
    pub inspected: Option<Box<Inspected>>,
    /// User variables to set, in plan order.
    pub variables: Vec<(String, TemplateValue)>,
}

/// Inspects `response`. `accepted` says whether its status was one the request expects:
/// extraction and checks only make sense then; outcomes classify any response.
pub(super) fn inspect(
    inspection: &Inspection,
    templates: &Templates,
    response: &Response,
    accepted: bool,
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
    let mut inspected = Inspected::default();
    if accepted {
        for extraction in &inspection.extract {
            match extract(&extraction.source, response, &text, json.as_ref()) {
                Some(value) => findings
                    .variables
                    .push((extraction.variable.clone(), value)),
                None if extraction.optional => findings
                    .variables
                    .push((extraction.variable.clone(), TemplateValue::from(()))),
                None => {
                    findings.failure.get_or_insert_with(|| {
                        Failure::Extract(format!(
                            "`{}` ({}) found nothing",
                            extraction.variable, extraction.described
                        ))
                    });
                }
            }
        }
        for check in &inspection.checks {
            let passed = holds(check, response, &text, json.as_ref());
            inspected.checks.push((check.id, passed));
            if !passed && check.fail {
                findings
                    .failure
                    .get_or_insert_with(|| Failure::Check(check.name.clone()));
            }
        }
    }
    if !inspection.outcomes.is_empty() {
        let context = outcome_context(response, &text, json.as_ref());
        for outcome in &inspection.outcomes {
            if templates.holds(outcome.condition, &context) {
                inspected.outcomes.push(outcome.id);
            }
        }
    }
    if !(inspected.checks.is_empty() && inspected.outcomes.is_empty()) {
        findings.inspected = Some(Box::new(inspected));
    }
    findings
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
    match &check.predicate {
        Predicate::Exists(wanted) => subject.is_some() == *wanted,
        Predicate::Equals(expected) => subject.as_ref() == Some(expected),
        Predicate::In(values) => subject.as_ref().is_some_and(|s| values.contains(s)),
        Predicate::IsNull => subject.is_none_or(|s| s.is_null()),
        Predicate::Contains(needle) => subject.is_some_and(|s| as_text(&s).contains(needle)),
        Predicate::Matches(regex) => subject.is_some_and(|s| regex.is_match(&as_text(&s))),
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
