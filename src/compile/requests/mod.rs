//! Tasks and `on-start` steps → `Action`s: requests with their templates compiled and
//! headers merged (plan, then class, then request), or `set` steps.

mod body;
mod headers;
mod spec;

use std::time::Duration;

use indexmap::IndexMap;

use super::checks::Site;
use super::context::Compiler;
use super::graph::Action;
use super::templates::Text;
use crate::plan::KeyPath;
use crate::plan::PlanErrorKind;
use crate::plan::raw::RawStep;

/// What a step inherits from its class.
pub(super) struct RequestContext<'a> {
    pub(crate) class: usize,
    pub(crate) class_headers: Option<&'a IndexMap<String, String>>,
    pub(crate) class_path: KeyPath,
    pub(crate) timeout: Duration,
}

/// Compiles a task: one request step, or a flow of `steps` run in order.
pub(super) fn task(
    cx: &mut Compiler,
    context: &RequestContext,
    task: &RawStep,
    path: &KeyPath,
    task_name: &String,
) -> Vec<Action> {
    let Some(steps) = &task.steps else {
        return step(cx, context, task, path, Some(task_name))
            .into_iter()
            .collect();
    };
    if let Some(key) = request_keys(task).first() {
        cx.error(
            path.key(*key),
            PlanErrorKind::BadStep {
                message: format!(
                    "a task with `steps` is a flow: `{key}` belongs inside one of its steps"
                ),
            },
        );
    }
    if steps.is_empty() {
        cx.error(
            path.key("steps"),
            PlanErrorKind::BadStep {
                message: "a flow needs at least one step".into(),
            },
        );
    }
    steps
        .iter()
        .enumerate()
        .filter_map(|(i, sub)| step(cx, context, sub, &path.key("steps").index(i), None))
        .collect()
}

/// The keys of a step that belong to a request (or to a `set` or `pause` step), present.
fn request_keys(step: &RawStep) -> Vec<&'static str> {
    [
        ("path", step.path.is_some()),
        ("method", step.method.is_some()),
        ("query", step.query.is_some()),
        ("headers", step.headers.is_some()),
        ("body", step.body.is_some()),
        ("body-file", step.body_file.is_some()),
        ("expect-status", step.expect_status.is_some()),
        ("extract", step.extract.is_some()),
        ("checks", step.checks.is_some()),
        ("outcomes", step.outcomes.is_some()),
        ("exclusive-outcomes", step.exclusive_outcomes.is_some()),
        ("when", step.when.is_some()),
        ("set", step.set.is_some()),
        ("pause", step.pause.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, present)| present.then_some(key))
    .collect()
}

/// Compiles one step; `task_name` is set for tasks (it names their statistics by default).
pub(super) fn step(
    cx: &mut Compiler,
    context: &RequestContext,
    step: &RawStep,
    path: &KeyPath,
    task_name: Option<&String>,
) -> Option<Action> {
    if !keys_fit(cx, step, path, task_name.is_some()) {
        return None;
    }
    if let Some(pause) = &step.pause {
        return cx
            .duration(Some(pause), &path.key("pause"))
            .map(Action::Pause);
    }
    if let Some(set) = &step.set {
        return Some(Action::Set(assignments(cx, context.class, set, path)));
    }
    let Some(raw_path) = &step.path else {
        cx.error(
            path.clone(),
            PlanErrorKind::BadStep {
                message:
                    "a step needs `path` (to send a request), `set` (to set variables) or `pause`"
                        .into(),
            },
        );
        return None;
    };
    spec::request(cx, context, step, raw_path, path, task_name).map(Action::Request)
}

/// Checks the step's keys go together: `weight` only on a task, no nested `steps`, and
/// `set` or `pause` alone. False when the step cannot compile.
fn keys_fit(cx: &mut Compiler, step: &RawStep, path: &KeyPath, is_task: bool) -> bool {
    if !is_task && step.weight.is_some() {
        cx.error(
            path.key("weight"),
            PlanErrorKind::BadStep {
                message: "`weight` applies to tasks, not to the steps of a flow or `on-start`"
                    .into(),
            },
        );
    }
    if step.steps.is_some() {
        cx.error(
            path.key("steps"),
            PlanErrorKind::BadStep {
                message: "flows do not nest: `steps` belongs to a task".into(),
            },
        );
        return false;
    }
    let present = request_keys(step);
    for kind in ["set", "pause"] {
        if !present.contains(&kind) {
            continue;
        }
        if let Some(key) = present.iter().find(|k| **k != kind) {
            cx.error(
                path.key(*key),
                PlanErrorKind::BadStep {
                    message: format!(
                        "a step sends a request, sets variables or pauses: `{key}` cannot go with `{kind}`"
                    ),
                },
            );
            return false;
        }
    }
    true
}

/// A `set` step's assignments: each variable with its compiled template.
fn assignments(
    cx: &mut Compiler,
    class: usize,
    set: &IndexMap<String, String>,
    path: &KeyPath,
) -> Vec<(String, Text)> {
    set.iter()
        .map(|(name, source)| {
            let text = compile_text(cx, class, source, &path.key("set").key(name.clone()));
            (name.clone(), text)
        })
        .collect()
}

/// Compiles a template and remembers where it was written, for the checks.
fn compile_text(cx: &mut Compiler, class: usize, source: &str, path: &KeyPath) -> Text {
    match compile_site(cx, class, source, path, false) {
        Ok(text) => text,
        Err(message) => {
            cx.error(path.clone(), PlanErrorKind::Template { message });
            Text::Static(String::new())
        }
    }
}

/// Compiles `source`, recording a template's site for the checks; `json_body` asks the
/// dry render to check the rendered text parses as JSON.
fn compile_site(
    cx: &mut Compiler,
    class: usize,
    source: &str,
    path: &KeyPath,
    json_body: bool,
) -> Result<Text, String> {
    let text = cx.templates.compile(source)?;
    if let Text::Template(id) = &text {
        cx.sites.push(Site {
            id: *id,
            path: path.clone(),
            class,
            source: source.to_owned(),
            json_body,
            reads_body: false,
        });
    }
    Ok(text)
}
