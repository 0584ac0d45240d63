//! A request's `checks`: what each looks at (a JSON value, a header, the status or the
//! body) and what must hold of it.

use serde_json::Value;

use super::{Check, Predicate, Subject, bad, header_name, json_query, regex};
use crate::compile::context::Compiler;
use crate::plan::raw::RawCheck;
use crate::plan::{KeyPath, PlanErrorKind};
use crate::units::StatusSet;

/// Compiles one check of `request`, registering its name.
pub(super) fn compile(
    cx: &mut Compiler,
    raw: &RawCheck,
    at: &KeyPath,
    request: &str,
) -> Option<Check> {
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
    let (subject, subject_text) = subject(cx, raw, at)?;
    let predicate = predicate(cx, raw, at)?;
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

/// What the check looks at, and how its default name says so.
fn subject(cx: &mut Compiler, raw: &RawCheck, at: &KeyPath) -> Option<(Subject, String)> {
    Some(if let Some(text) = &raw.json {
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
    })
}

/// What must hold: `status: [...]` alone, else exactly one condition.
fn predicate(cx: &mut Compiler, raw: &RawCheck, at: &KeyPath) -> Option<Predicate> {
    let predicates = [
        raw.exists.is_some(),
        raw.equals.is_some(),
        raw.one_of.is_some(),
        raw.is_null == Some(true),
        raw.contains.is_some(),
        raw.matches.is_some(),
    ];
    let predicate_count = predicates.iter().filter(|p| **p).count();
    let Some(statuses) = &raw.status else {
        if predicate_count != 1 {
            bad(
                cx,
                at,
                "a check takes exactly one of `exists`, `equals`, `in`, `is-null`, `contains` or `matches`",
            );
            return None;
        }
        return condition(cx, raw, at);
    };
    if predicate_count > 0 {
        bad(
            cx,
            at,
            "`status: [...]` is the whole check: it takes no other condition",
        );
        return None;
    }
    match StatusSet::parse_items(statuses.items()) {
        Ok(set) => Some(Predicate::StatusIn(set)),
        Err(message) => {
            cx.error(at.key("status"), PlanErrorKind::BadStatus { message });
            None
        }
    }
}

/// The check's one condition (`exists`, `equals`, `in`, `is-null`, `contains`, `matches`).
fn condition(cx: &mut Compiler, raw: &RawCheck, at: &KeyPath) -> Option<Predicate> {
    Some(if let Some(exists) = raw.exists {
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
