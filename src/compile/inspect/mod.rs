//! `Inspection`: what a request step does with its response, compiled: `extract` (user
//! variables), `checks` (assertions, failing or only counted) and `outcomes` (named
//! conditions that business metrics count). JSONPaths and regexes are compiled here, once;
//! a syntax error is a plan error at its key.

use regex::Regex;
use reqwest::header::HeaderName;
use serde_json::Value;
use serde_json_path::JsonPath;

use super::context::Compiler;
use super::templates::{FUNCTION_NAMES, TemplateId, Text, condition_source};
use crate::plan::raw::{RawCheck, RawExclusive, RawExtract, RawStep};
use crate::plan::{KeyPath, PlanErrorKind};
use crate::units::StatusSet;

/// Names an outcome condition can read.
pub const OUTCOME_VARIABLES: [&str; 4] = ["status", "json", "body", "headers"];
/// Checks and outcomes per request are reported as bit sets.
pub const MAX_PER_REQUEST: usize = 64;

/// Index of a named check in `ExecPlan::checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckId(pub u32);

/// Index of a named outcome in `ExecPlan::outcomes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutcomeId(pub u32);

/// A check or outcome as reports name it: its request name and its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionName {
    pub request: String,
    pub name: String,
}

/// A value inside a JSON body.
#[derive(Debug, Clone)]
pub enum JsonQuery {
    Path(JsonPath),
    Pointer(String),
}

impl JsonQuery {
    /// The first value the query selects.
    pub fn first<'a>(&self, json: &'a Value) -> Option<&'a Value> {
        match self {
            JsonQuery::Path(path) => path.query(json).first(),
            JsonQuery::Pointer(pointer) => json.pointer(pointer),
        }
    }
}

/// Where an extracted value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Json(JsonQuery),
    /// The first capture group, or the whole match when the regex has none.
    Regex(Regex),
    Header(HeaderName),
    Cookie(String),
    Status,
}

impl Source {
    /// Whether the value is looked for in the body (which may have been cut at `max-body`).
    pub fn reads_body(&self) -> bool {
        matches!(self, Source::Json(_) | Source::Regex(_))
    }
}

#[derive(Debug, Clone)]
pub struct Extraction {
    pub variable: String,
    pub source: Source,
    /// A missing value leaves the variable `none` instead of failing the request.
    pub optional: bool,
    /// The plan's own words for the source, for failure messages.
    pub described: String,
}

/// What a check looks at.
#[derive(Debug, Clone)]
pub enum Subject {
    Json(JsonQuery),
    Header(HeaderName),
    Status,
    Body,
}

impl Subject {
    /// Whether the check looks at the body (which may have been cut at `max-body`).
    pub fn reads_body(&self) -> bool {
        matches!(self, Subject::Json(_) | Subject::Body)
    }
}

#[derive(Debug, Clone)]
pub enum Predicate {
    Exists(bool),
    Equals(Value),
    In(Vec<Value>),
    IsNull,
    Contains(String),
    Matches(Regex),
    StatusIn(StatusSet),
}

#[derive(Debug, Clone)]
pub struct Check {
    pub id: CheckId,
    pub name: String,
    pub subject: Subject,
    pub predicate: Predicate,
    /// A failing check fails its request; otherwise it is only counted.
    pub fail: bool,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: OutcomeId,
    /// Compiled from `condition_source`; tested with `Templates::holds`.
    pub condition: TemplateId,
}

/// Everything a request does with its response.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    pub extract: Vec<Extraction>,
    pub checks: Vec<Check>,
    pub outcomes: Vec<Outcome>,
    /// Groups of outcomes a response meets at most one of (`exclusive-outcomes`).
    pub exclusive: Vec<Vec<OutcomeId>>,
}

impl Inspection {
    /// Whether the response must be kept (headers and body) at all.
    pub fn is_needed(&self) -> bool {
        !(self.extract.is_empty() && self.checks.is_empty() && self.outcomes.is_empty())
    }

    /// Whether any part reads the body as JSON.
    pub fn reads_json(&self) -> bool {
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
        if let Some(check) = check(cx, raw, &path.key("checks").index(i), request) {
            inspection.checks.push(check);
        }
    }
    for (name, condition) in step.outcomes.iter().flatten() {
        let at = path.key("outcomes").key(name.clone());
        if let Some(outcome) = outcome(cx, name, condition, &at, request) {
            inspection.outcomes.push(outcome);
        }
    }
    if let Some(raw) = &step.exclusive_outcomes {
        inspection.exclusive = exclusive(
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

fn bad(cx: &mut Compiler, at: &KeyPath, message: impl Into<String>) {
    cx.error(
        at.clone(),
        PlanErrorKind::BadStep {
            message: message.into(),
        },
    );
}

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

fn header_name(cx: &mut Compiler, text: &str, at: &KeyPath) -> Option<HeaderName> {
    let name = HeaderName::from_bytes(text.to_ascii_lowercase().as_bytes()).ok();
    if name.is_none() {
        bad(cx, at, format!("`{text}` is not a valid header name"));
    }
    name
}

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

fn check(cx: &mut Compiler, raw: &RawCheck, at: &KeyPath, request: &str) -> Option<Check> {
    let subjects = [
        raw.json.is_some(),
        raw.header.is_some(),
        raw.status.is_some(),
    ];
    if subjects.iter().filter(|s| **s).count() > 1 {
        bad(
            cx,
            at,
            "a check looks at one of `json`, `header` or `status` (or the body, when none is given)",
        );
        return None;
    }
    let predicates = [
        raw.exists.is_some(),
        raw.equals.is_some(),
        raw.one_of.is_some(),
        raw.is_null == Some(true),
        raw.contains.is_some(),
        raw.matches.is_some(),
    ];
    let predicate_count = predicates.iter().filter(|p| **p).count();
    let (subject, subject_text) = if let Some(text) = &raw.json {
        (
            Subject::Json(json_query(cx, text, &at.key("json"))?),
            text.clone(),
        )
    } else if let Some(text) = &raw.header {
        (
            Subject::Header(header_name(cx, text, &at.key("header"))?),
            format!("header {text}"),
        )
    } else if raw.status.is_some() {
        (Subject::Status, "status".to_owned())
    } else {
        (Subject::Body, "body".to_owned())
    };
    let predicate = if let Some(statuses) = &raw.status {
        if predicate_count > 0 {
            bad(
                cx,
                at,
                "`status: [...]` is the whole check: it takes no other condition",
            );
            return None;
        }
        match StatusSet::parse_items(statuses.items()) {
            Ok(set) => Predicate::StatusIn(set),
            Err(message) => {
                cx.error(at.key("status"), PlanErrorKind::BadStatus { message });
                return None;
            }
        }
    } else {
        if predicate_count != 1 {
            bad(
                cx,
                at,
                "a check takes exactly one of `exists`, `equals`, `in`, `is-null`, `contains` or `matches`",
            );
            return None;
        }
        if let Some(exists) = raw.exists {
            Predicate::Exists(exists)
        } else if let Some(value) = &raw.equals {
            Predicate::Equals(value.clone())
        } else if let Some(values) = &raw.one_of {
            Predicate::In(values.clone())
        } else if raw.is_null == Some(true) {
            Predicate::IsNull
        } else if let Some(text) = &raw.contains {
            Predicate::Contains(text.clone())
        } else {
            let text = raw.matches.as_deref().unwrap_or_default();
            Predicate::Matches(regex(cx, text, &at.key("matches"))?)
        }
    };
    let name = raw
        .name
        .clone()
        .unwrap_or_else(|| format!("{subject_text} {}", describe(&predicate, raw)));
    let id = cx.check(request, &name);
    Some(Check {
        id,
        name,
        subject,
        predicate,
        fail: raw.fail.unwrap_or(true),
    })
}

/// A predicate in the plan's words, for a check's default name.
fn describe(predicate: &Predicate, raw: &RawCheck) -> String {
    match predicate {
        Predicate::Exists(true) => "exists".into(),
        Predicate::Exists(false) => "is absent".into(),
        Predicate::Equals(value) => format!("equals {value}"),
        Predicate::In(values) => format!("in {}", Value::from(values.clone())),
        Predicate::IsNull => "is null".into(),
        Predicate::Contains(text) => format!("contains {text:?}"),
        Predicate::Matches(_) => {
            format!("matches /{}/", raw.matches.as_deref().unwrap_or_default())
        }
        Predicate::StatusIn(_) => format!(
            "in [{}]",
            raw.status
                .as_ref()
                .map(|s| s.items().join(", "))
                .unwrap_or_default()
        ),
    }
}

fn outcome(
    cx: &mut Compiler,
    name: &str,
    condition: &str,
    at: &KeyPath,
    request: &str,
) -> Option<Outcome> {
    let id = match cx.templates.compile(&condition_source(condition)) {
        Ok(Text::Template(id)) => id,
        Ok(Text::Static(_)) => unreachable!("an `if` block is a template"),
        Err(message) => {
            cx.error(at.clone(), PlanErrorKind::Template { message });
            return None;
        }
    };
    let mut unknown: Vec<String> = cx
        .templates
        .undeclared(id)
        .into_iter()
        .filter_map(|v| v.split('.').next().map(str::to_owned))
        .filter(|root| {
            !OUTCOME_VARIABLES.contains(&root.as_str()) && !FUNCTION_NAMES.contains(&root.as_str())
        })
        .collect();
    unknown.sort();
    unknown.dedup();
    if let Some(first) = unknown.first() {
        let hint = crate::plan::did_you_mean(first, OUTCOME_VARIABLES.iter().copied());
        cx.error_with_hint(
            at.clone(),
            PlanErrorKind::UndefinedVariable {
                name: first.clone(),
            },
            hint.or_else(|| Some("an outcome reads `status`, `json`, `body` and `headers`".into())),
        );
        return None;
    }
    Some(Outcome {
        id: cx.outcome(request, name),
        condition: id,
    })
}

/// `exclusive-outcomes` → groups of this request's outcome ids, each of at least two.
fn exclusive(
    cx: &mut Compiler,
    raw: &RawExclusive,
    outcomes: &[Outcome],
    at: &KeyPath,
) -> Vec<Vec<OutcomeId>> {
    let names: Vec<String> = outcomes
        .iter()
        .map(|o| cx.outcomes[o.id.0 as usize].name.clone())
        .collect();
    let groups: Vec<Vec<String>> = match raw {
        RawExclusive::All(false) => return Vec::new(),
        RawExclusive::All(true) => vec![names.clone()],
        RawExclusive::Groups(groups) => groups.clone(),
    };
    let mut compiled = Vec::new();
    for group in groups {
        let mut ids: Vec<OutcomeId> = Vec::new();
        for name in &group {
            match names.iter().position(|n| n == name) {
                Some(index) => {
                    if !ids.contains(&outcomes[index].id) {
                        ids.push(outcomes[index].id);
                    }
                }
                None => {
                    let hint = crate::plan::did_you_mean(name, names.iter().map(String::as_str))
                        .or_else(|| {
                            Some(if names.is_empty() {
                                "this request declares no `outcomes`".to_owned()
                            } else {
                                format!("its outcomes: {}", names.join(", "))
                            })
                        });
                    cx.error_with_hint(
                        at.clone(),
                        PlanErrorKind::BadStep {
                            message: format!(
                                "`exclusive-outcomes` names `{name}`, which is not an outcome of this request"
                            ),
                        },
                        hint,
                    );
                    return Vec::new();
                }
            }
        }
        if ids.len() < 2 {
            bad(
                cx,
                at,
                format!(
                    "exclusive outcomes need at least two outcomes of this request; found {}",
                    if ids.is_empty() {
                        "none".to_owned()
                    } else {
                        format!("only `{}`", group[0])
                    }
                ),
            );
            return Vec::new();
        }
        ids.sort_by_key(|id| id.0);
        compiled.push(ids);
    }
    compiled
}
