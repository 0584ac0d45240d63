//! A request's `outcomes` (named conditions on its response) and which of them are
//! `exclusive-outcomes`.

use super::{OUTCOME_VARIABLES, Outcome, OutcomeId, bad};
use crate::compile::context::Compiler;
use crate::compile::templates::{FUNCTION_NAMES, Text, condition_source};
use crate::plan::raw::RawExclusive;
use crate::plan::{KeyPath, PlanErrorKind};

/// Compiles outcome `name` of `request`: a condition that reads only the response.
pub(super) fn compile(
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
pub(super) fn exclusive(
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
        match group_ids(cx, &group, &names, outcomes, at) {
            Some(ids) => compiled.push(ids),
            None => return Vec::new(),
        }
    }
    compiled
}

/// The ids of one exclusive group, sorted: each name an outcome of this request, at
/// least two of them.
fn group_ids(
    cx: &mut Compiler,
    group: &[String],
    names: &[String],
    outcomes: &[Outcome],
    at: &KeyPath,
) -> Option<Vec<OutcomeId>> {
    let mut ids: Vec<OutcomeId> = Vec::new();
    for name in group {
        let Some(index) = names.iter().position(|n| n == name) else {
            unknown_outcome(cx, name, names, at);
            return None;
        };
        if !ids.contains(&outcomes[index].id) {
            ids.push(outcomes[index].id);
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
        return None;
    }
    ids.sort_by_key(|id| id.0);
    Some(ids)
}

/// Reports a name in `exclusive-outcomes` that is not one of the request's `names`.
fn unknown_outcome(cx: &mut Compiler, name: &str, names: &[String], at: &KeyPath) {
    let hint = crate::plan::did_you_mean(name, names.iter().map(String::as_str)).or_else(|| {
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
}
