//! `rate: {task: 1000/min, …}` → one arrival stream per task, each named by task,
//! `Class.task`, or the name of the one request a task sends.

use std::time::Duration;

use indexmap::IndexMap;

use crate::compile::arrival_plan::{ArrivalStream, RateCurve, TaskPick};
use crate::compile::context::Compiler;
use crate::compile::graph::{Action, UserClass};
use crate::plan::raw::Scalar;
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};

/// A constant stream per named task, for `total`; a name or rate in error is reported
/// and its stream left out.
pub(super) fn streams(
    cx: &mut Compiler,
    classes: &[UserClass],
    rates: &IndexMap<String, Scalar>,
    total: Duration,
    path: &KeyPath,
) -> Vec<ArrivalStream> {
    let mut streams = Vec::new();
    for (name, rate) in rates {
        let rate_path = path.key("rate").key(name.clone());
        let pick = task_named(cx, classes, name, &rate_path);
        let rate = cx.rate(Some(rate.to_string()), &rate_path);
        if let (Some(pick), Some(rate)) = (pick, rate) {
            streams.push(ArrivalStream {
                pick,
                curve: RateCurve::constant(rate.as_per_second(), total),
            });
        }
    }
    streams
}

/// `task` or `Class.task`, the task a per-task rate drives.
fn task_named(
    cx: &mut Compiler,
    classes: &[UserClass],
    name: &str,
    path: &KeyPath,
) -> Option<TaskPick> {
    let (class_name, task_name) = match name.split_once('.') {
        Some((c, t)) if classes.iter().any(|k| k.name == c) => (Some(c), t),
        _ => (None, name),
    };
    let found = by_task_name(classes, class_name, task_name);
    // Not a task name: a request name, when exactly one task sends only that request
    // ("1000 req/min to pre-reserve" names the request).
    let found = if found.is_empty() && class_name.is_none() {
        by_request_name(cx, classes, task_name)
    } else {
        found
    };
    match found.as_slice() {
        [one] => Some(*one),
        [] => {
            let names = classes
                .iter()
                .flat_map(|c| c.tasks.iter().map(|t| t.name.as_str()));
            let hint = did_you_mean(task_name, names);
            cx.error_with_hint(
                path.clone(),
                PlanErrorKind::UnknownTask {
                    name: name.to_owned(),
                },
                hint,
            );
            None
        }
        _ => {
            cx.error(
                path.clone(),
                PlanErrorKind::BadLoad {
                    message: format!(
                        "more than one class has a task `{task_name}`: write `CLASS.{task_name}`"
                    ),
                },
            );
            None
        }
    }
}

/// Tasks named `task_name`, in the class `class_name` when given, else in any class.
fn by_task_name(classes: &[UserClass], class_name: Option<&str>, task_name: &str) -> Vec<TaskPick> {
    classes
        .iter()
        .enumerate()
        .filter(|(_, c)| class_name.is_none_or(|n| c.name == n))
        .flat_map(|(ci, c)| {
            c.tasks
                .iter()
                .enumerate()
                .filter(|(_, t)| t.name == task_name)
                .map(move |(ti, _)| TaskPick::Task {
                    class: ci,
                    task: ti,
                })
        })
        .collect()
}

/// Tasks whose only request is named `name`.
fn by_request_name(cx: &Compiler, classes: &[UserClass], name: &str) -> Vec<TaskPick> {
    let mut found = Vec::new();
    for (ci, class) in classes.iter().enumerate() {
        for (ti, task) in class.tasks.iter().enumerate() {
            let requests: Vec<_> = task
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::Request(id) => Some(cx.requests[id.0 as usize].name),
                    Action::Set(_) | Action::Pause(_) => None,
                })
                .collect();
            if let [metric] = requests.as_slice() {
                if cx.request_names[metric.0 as usize].name == name {
                    found.push(TaskPick::Task {
                        class: ci,
                        task: ti,
                    });
                }
            }
        }
    }
    found
}
