//! `Inspection`: what a request step does with its response, compiled: `extract` (user
//! variables), `checks` (assertions, failing or only counted) and `outcomes` (named
//! conditions that business metrics count). JSONPaths and regexes are compiled here, once;
//! a syntax error is a plan error at its key.

mod check;
mod outcome;

use http::header::HeaderName;
use regex::Regex;
use serde_json::Value;
use serde_json_path::JsonPath;

use super::context::Compiler;
use super::templates::TemplateId;
use crate::plan::raw::{RawExtract, RawStep};
use crate::plan::{KeyPath, PlanErrorKind};
use crate::units::StatusSet;

/// Names an outcome condition can read.
pub(crate) const OUTCOME_VARIABLES: [&str; 4] = ["status", "json", "body", "headers"];
/// Checks and outcomes per request are reported as bit sets.
pub(crate) const MAX_PER_REQUEST: usize = 64;

/// Index of a named check in `ExecPlan::checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckId(pub(crate) u32);

/// Index of a named outcome in `ExecPlan::outcomes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutcomeId(pub(crate) u32);

/// A check or outcome as reports name it: its request name and its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionName {
    pub(crate) request: String,
    pub(crate) name: String,
}

/// A value inside a JSON body.
#[derive(Debug, Clone)]
pub(crate) enum JsonQuery {
    Path(JsonPath),
    Pointer(String),
}

impl JsonQuery {
    /// The first value the query selects.
    pub(crate) fn first<'a>(&self, json: &'a Value) -> Option<&'a Value> {
        match self {
            JsonQuery::Path(path) => path.query(json).first(),
            JsonQuery::Pointer(pointer) => json.pointer(pointer),
        }
    }
}

/// Where an extracted value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Json(JsonQuery),
    /// The first capture group, or the whole match when the regex has none.
    Regex(Regex),
    Header(HeaderName),
    Cookie(String),
    Status,
}

impl Source {
    /// Whether the value is looked for in the body (which may have been cut at `max-body`).
    pub(crate) fn reads_body(&self) -> bool {
        matches!(self, Source::Json(_) | Source::Regex(_))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Extraction {
    pub(crate) variable: String,
    pub(crate) source: Source,
    /// A missing value leaves the variable `none` instead of failing the request.
    pub(crate) optional: bool,
    /// The plan's own words for the source, for failure messages.
    pub(crate) described: String,
}

/// What a check looks at.
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    Json(JsonQuery),
    Header(HeaderName),
    Status,
    Body,
}

impl Subject {
    /// Whether the check looks at the body (which may have been cut at `max-body`).
    pub(crate) fn reads_body(&self) -> bool {
        matches!(self, Subject::Json(_) | Subject::Body)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Predicate {
    Exists(bool),
    Equals(Value),
    In(Vec<Value>),
    IsNull,
    Contains(String),
    Matches(Regex),
    StatusIn(StatusSet),
}

#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub(crate) id: CheckId,
    pub(crate) name: String,
    pub(crate) subject: Subject,
    pub(crate) predicate: Predicate,
    /// A failing check fails its request; otherwise it is only counted.
    pub(crate) fail: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) id: OutcomeId,
    /// Compiled from `condition_source`; tested with `Templates::holds`.
    pub(crate) condition: TemplateId,
}

/// Everything a request does with its response.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    pub(crate) extract: Vec<Extraction>,
    pub(crate) checks: Vec<Check>,
    pub(crate) outcomes: Vec<Outcome>,
    /// Groups of outcomes a response meets at most one of (`exclusive-outcomes`).
    pub(crate) exclusive: Vec<Vec<OutcomeId>>,
}

impl Inspection {
    /// Whether the response must be kept (headers and body) at all.
    pub(crate) fn is_needed(&self) -> bool {
        !(self.extract.is_empty() && self.checks.is_empty() && self.outcomes.is_empty())
    }

    /// Whether any part reads the body as JSON.
    pub(crate) fn reads_json(&self) -> bool {
        self.extract
            .iter()
            .any(|e| matches!(e.source, Source::Json(_)))
            || self
                .checks
                .iter()
                .any(|c| matches!(c.subject, Subject::Json(_)))
            || !self.outcomes.is_empty()
    }
}

/// Compiles a request step's `extract`, `checks` and `outcomes`.
pub(super) fn compile(
    cx: &mut Compiler,
    step: &RawStep,
    path: &KeyPath,
    request: &str,
) -> Inspection {
    let mut inspection = Inspection::default();
    for (variable, raw) in step.extract.iter().flatten() {
        let at = path.key("extract").key(variable.clone());
        if let Some(extraction) = extraction(cx, variable, raw, &at) {
            inspection.extract.push(extraction);
        }
    }
    for (i, raw) in step.checks.iter().flatten().enumerate() {
        if let Some(check) = check::compile(cx, raw, &path.key("checks").index(i), request) {
            inspection.checks.push(check);
        }
    }
    for (name, condition) in step.outcomes.iter().flatten() {
        let at = path.key("outcomes").key(name.clone());
        if let Some(outcome) = outcome::compile(cx, name, condition, &at, request) {
            inspection.outcomes.push(outcome);
        }
    }
    if let Some(raw) = &step.exclusive_outcomes {
        inspection.exclusive = outcome::exclusive(
            cx,
            raw,
            &inspection.outcomes,
            &path.key("exclusive-outcomes"),
        );
    }
    if inspection.checks.len() > MAX_PER_REQUEST || inspection.outcomes.len() > MAX_PER_REQUEST {
        cx.error(
            path.clone(),
            PlanErrorKind::BadStep {
                message: format!(
                    "at most {MAX_PER_REQUEST} checks and {MAX_PER_REQUEST} outcomes per request"
                ),
            },
        );
    }
    inspection
}

/// Records a `BadStep` error at `at`.
fn bad(cx: &mut Compiler, at: &KeyPath, message: impl Into<String>) {
    cx.error(
        at.clone(),
        PlanErrorKind::BadStep {
            message: message.into(),
        },
    );
}

/// A JSON pointer (`/a/b`) or JSONPath (`$.a.b`).
fn json_query(cx: &mut Compiler, text: &str, at: &KeyPath) -> Option<JsonQuery> {
    if text.starts_with('/') {
        return Some(JsonQuery::Pointer(text.to_owned()));
    }
    match JsonPath::parse(text) {
        Ok(path) => Some(JsonQuery::Path(path)),
        Err(error) => {
            bad(
                cx,
                at,
                format!("`{text}` is not a JSONPath (`$.a.b`) or JSON pointer (`/a/b`): {error}"),
            );
            None
        }
    }
}

/// A regular expression.
fn regex(cx: &mut Compiler, text: &str, at: &KeyPath) -> Option<Regex> {
    match Regex::new(text) {
        Ok(regex) => Some(regex),
        Err(error) => {
            bad(
                cx,
                at,
                format!("`{text}` is not a regular expression: {error}"),
            );
            None
        }
    }
}

/// A header name (any case).
fn header_name(cx: &mut Compiler, text: &str, at: &KeyPath) -> Option<HeaderName> {
    let name = HeaderName::from_bytes(text.to_ascii_lowercase().as_bytes()).ok();
    if name.is_none() {
        bad(cx, at, format!("`{text}` is not a valid header name"));
    }
    name
}

/// One `extract` entry: where the value of `variable` comes from.
fn extraction(
    cx: &mut Compiler,
    variable: &str,
    raw: &RawExtract,
    at: &KeyPath,
) -> Option<Extraction> {
    let given: Vec<&str> = [
        ("json", raw.json.is_some()),
        ("regex", raw.regex.is_some()),
        ("header", raw.header.is_some()),
        ("cookie", raw.cookie.is_some()),
        ("status", raw.status == Some(true)),
    ]
    .into_iter()
    .filter_map(|(key, present)| present.then_some(key))
    .collect();
    if given.len() != 1 {
        bad(
            cx,
            at,
            format!(
                "an extraction takes exactly one of `json`, `regex`, `header`, `cookie` or `status: true`; found {}",
                if given.is_empty() {
                    "none".to_owned()
                } else {
                    given.join(", ")
                }
            ),
        );
        return None;
    }
    let (source, described) = if let Some(text) = &raw.json {
        (
            Source::Json(json_query(cx, text, &at.key("json"))?),
            format!("json {text}"),
        )
    } else if let Some(text) = &raw.regex {
        (
            Source::Regex(regex(cx, text, &at.key("regex"))?),
            format!("regex {text}"),
        )
    } else if let Some(text) = &raw.header {
        (
            Source::Header(header_name(cx, text, &at.key("header"))?),
            format!("header {text}"),
        )
    } else if let Some(text) = &raw.cookie {
        (Source::Cookie(text.clone()), format!("cookie {text}"))
    } else {
        (Source::Status, "status".to_owned())
    };
    Some(Extraction {
        variable: variable.to_owned(),
        source,
        described,
        optional: raw.optional.unwrap_or(false),
    })
}
