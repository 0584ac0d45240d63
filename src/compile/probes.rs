//! `bursts` and `recovery` → `Burst`s and a `RecoveryProbe`: requests the engine sends
//! outside the load's schedule, found by request name.

use std::time::Duration;

use super::MAX_USERS;
use super::context::Compiler;
use super::graph::{Action, RequestId, UserClass};
use crate::plan::raw::{RawBurst, RawRecovery};
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};

/// `size` copies of a request released at the same instant, each on its own connection
/// (the seed's 100 simultaneous pre-reservations).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Burst {
    /// The request name, for reports.
    pub(crate) name: String,
    pub(crate) request: RequestId,
    /// The class whose user variables the request's templates see.
    pub(crate) class: usize,
    pub(crate) size: u32,
    /// Offset from the start of the run.
    pub(crate) at: Duration,
}

/// After the load: send `request` every `interval` until it meets its expectations
/// `successes` times in a row, giving up after `timeout`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecoveryProbe {
    pub(crate) name: String,
    pub(crate) request: RequestId,
    pub(crate) class: usize,
    pub(crate) successes: u32,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

pub(super) fn bursts(
    cx: &mut Compiler,
    raw: Option<&Vec<RawBurst>>,
    classes: &[UserClass],
    total: Option<Duration>,
) -> Vec<Burst> {
    let mut bursts = Vec::new();
    for (i, raw) in raw.into_iter().flatten().enumerate() {
        let path = KeyPath::root().key("load").key("bursts").index(i);
        let found = named_request(cx, raw.request.as_deref(), classes, &path.key("request"));
        let size = match raw.size {
            Some(n) if n >= 1 && n <= i64::from(MAX_USERS) => Some(n as u32),
            Some(n) => {
                cx.error(
                    path.key("size"),
                    PlanErrorKind::BadLoad {
                        message: format!("{n}: expected a whole number from 1 to {MAX_USERS}"),
                    },
                );
                None
            }
            None => {
                cx.error(
                    path.clone(),
                    PlanErrorKind::MissingKey { key: "size".into() },
                );
                None
            }
        };
        let at = match raw.at.as_deref() {
            Some(text) => cx.duration(Some(text), &path.key("at")),
            None => Some(Duration::ZERO),
        };
        if let (Some(at), Some(total)) = (at, total) {
            if at >= total {
                cx.error(
                    path.key("at"),
                    PlanErrorKind::BadLoad {
                        message: "the burst is released after the load has ended".into(),
                    },
                );
                continue;
            }
        }
        if let (Some((name, class, request)), Some(size), Some(at)) = (found, size, at) {
            bursts.push(Burst {
                name,
                request,
                class,
                size,
                at,
            });
        }
    }
    bursts
}

pub(super) fn recovery(
    cx: &mut Compiler,
    raw: Option<&RawRecovery>,
    classes: &[UserClass],
) -> Option<RecoveryProbe> {
    let raw = raw?;
    let path = KeyPath::root().key("load").key("recovery");
    let found = named_request(cx, raw.request.as_deref(), classes, &path.key("request"));
    let successes = match raw.successes {
        None => 3,
        Some(n) if (1..=1000).contains(&n) => n as u32,
        Some(n) => {
            cx.error(
                path.key("successes"),
                PlanErrorKind::BadLoad {
                    message: format!("{n}: expected a whole number from 1 to 1000"),
                },
            );
            3
        }
    };
    let interval = cx
        .duration(raw.interval.as_deref(), &path.key("interval"))
        .unwrap_or(Duration::from_secs(1));
    let timeout = cx
        .duration(raw.timeout.as_deref(), &path.key("timeout"))
        .unwrap_or(Duration::from_secs(600));
    if interval.is_zero() {
        cx.error(
            path.key("interval"),
            PlanErrorKind::BadLoad {
                message: "`interval` must be longer than 0s".into(),
            },
        );
    }
    let (name, class, request) = found?;
    Some(RecoveryProbe {
        name,
        request,
        class,
        successes,
        interval,
        timeout,
    })
}

/// The first request named `name` in a task, with its class.
fn named_request(
    cx: &mut Compiler,
    name: Option<&str>,
    classes: &[UserClass],
    path: &KeyPath,
) -> Option<(String, usize, RequestId)> {
    let Some(name) = name else {
        cx.error(
            path.clone(),
            PlanErrorKind::MissingKey {
                key: "request".into(),
            },
        );
        return None;
    };
    for (ci, class) in classes.iter().enumerate() {
        for task in &class.tasks {
            for action in &task.actions {
                if let Action::Request(id) = action {
                    let metric = cx.requests[id.0 as usize].name;
                    if cx.request_names[metric.0 as usize].name == name {
                        return Some((name.to_owned(), ci, *id));
                    }
                }
            }
        }
    }
    let hint = did_you_mean(name, cx.request_names.iter().map(|m| m.name.as_str()));
    cx.error_with_hint(
        path.clone(),
        PlanErrorKind::NoSuchRequest {
            name: name.to_owned(),
        },
        hint,
    );
    None
}
