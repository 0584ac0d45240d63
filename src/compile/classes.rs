//! `classes` → `UserClass`es: each class's weight, think time, `on-start` steps, weighted
//! tasks and what a failed `on-start` does.

use std::time::Duration;

use indexmap::IndexMap;

use super::context::Compiler;
use super::graph::{OnStartFailure, Task, UserClass};
use super::requests::{self, RequestContext};
use super::think::ThinkTime;
use super::weights::WeightTable;
use crate::plan::raw::{RawClass, RawStep};
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};

/// Compiles every class, in the plan's order; a plan needs at least one.
pub(super) fn compile(cx: &mut Compiler, timeout: Duration) -> Vec<UserClass> {
    let plan = cx.plan;
    let classes_path = KeyPath::root().key("classes");
    let raw_classes = match &plan.raw.classes {
        Some(classes) if !classes.is_empty() => classes,
        _ => {
            cx.error(classes_path, PlanErrorKind::NoClasses);
            return Vec::new();
        }
    };
    let mut classes = Vec::new();
    for (index, (name, raw)) in raw_classes.iter().enumerate() {
        let context = RequestContext {
            class: index,
            class_headers: raw.headers.as_ref(),
            class_path: classes_path.key(name.clone()),
            timeout,
        };
        classes.push(class(cx, &context, name, raw));
    }
    classes
}

/// Compiles one class: its weight, think time, `on-start` steps and tasks.
fn class(cx: &mut Compiler, context: &RequestContext, name: &str, raw: &RawClass) -> UserClass {
    let path = &context.class_path;
    let weight = cx.weight(raw.weight, &path.key("weight"));
    let think = think_time(cx, raw.think_time.as_deref(), path);
    let on_start = raw
        .on_start
        .iter()
        .flatten()
        .enumerate()
        .flat_map(|(i, step)| {
            requests::step(cx, context, step, &path.key("on-start").index(i), None)
        })
        .collect();
    let tasks = tasks(cx, context, name, raw.tasks.as_ref());
    let picker = WeightTable::new(tasks.iter().map(|t| t.weight).collect()).unwrap_or_else(|| {
        WeightTable::new(vec![1]).unwrap_or_else(|| unreachable!("[1] is a valid table"))
    });
    let on_start_failure = on_start_failure(cx, raw.on_start_failure.as_deref(), path);
    UserClass {
        name: name.to_owned(),
        weight,
        think,
        on_start,
        on_start_failure,
        tasks,
        picker,
    }
}

/// The class's `think-time` (none when unset).
fn think_time(cx: &mut Compiler, text: Option<&str>, path: &KeyPath) -> ThinkTime {
    let Some(text) = text else {
        return ThinkTime::None;
    };
    ThinkTime::parse(text).unwrap_or_else(|| {
        cx.error(
            path.key("think-time"),
            PlanErrorKind::BadThinkTime {
                found: text.to_owned(),
            },
        );
        ThinkTime::None
    })
}

/// The class's weighted tasks; a class needs at least one.
fn tasks(
    cx: &mut Compiler,
    context: &RequestContext,
    class: &str,
    raw_tasks: Option<&IndexMap<String, RawStep>>,
) -> Vec<Task> {
    let path = context.class_path.key("tasks");
    let Some(raw_tasks) = raw_tasks.filter(|t| !t.is_empty()) else {
        cx.error(
            path,
            PlanErrorKind::NoTasks {
                class: class.to_owned(),
            },
        );
        return Vec::new();
    };
    let mut tasks = Vec::new();
    for (task_name, step) in raw_tasks {
        let task_path = path.key(task_name.clone());
        let weight = cx.weight(step.weight, &task_path.key("weight"));
        let actions = requests::task(cx, context, step, &task_path, task_name);
        tasks.push(Task {
            name: task_name.clone(),
            weight,
            actions,
        });
    }
    tasks
}

/// What a user does when its `on-start` fails: `retry` (the default) or `stop`.
fn on_start_failure(cx: &mut Compiler, text: Option<&str>, path: &KeyPath) -> OnStartFailure {
    match text {
        None | Some("retry") => OnStartFailure::Retry,
        Some("stop") => OnStartFailure::Stop,
        Some(other) => {
            let hint = did_you_mean(other, ["retry", "stop"]);
            cx.error_with_hint(
                path.key("on-start-failure"),
                PlanErrorKind::BadStep {
                    message: format!("`on-start-failure` is `retry` or `stop`, not `{other}`"),
                },
                hint,
            );
            OnStartFailure::Retry
        }
    }
}
