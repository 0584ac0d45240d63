//! Tasks and `on-start` steps → `Action`s: requests with their templates compiled and
//! headers merged (plan, then class, then request), or `set` steps.

use std::time::Duration;

use indexmap::IndexMap;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use super::Compiler;
use super::checks::Site;
use super::graph::{Action, RequestId, RequestSpec};
use super::inspect;
use super::target;
use super::templates::{Text, condition_source};
use crate::plan::raw::RawStep;
use crate::plan::read::{ReadError, read_bounded};
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};
use crate::units::StatusSet;

/// Payload files larger than this are a mistake (a load test sends them thousands of times).
const MAX_PAYLOAD_BYTES: u64 = 10 * 1024 * 1024;

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// What a step inherits from its class.
pub(super) struct RequestContext<'a> {
    pub class: usize,
    pub class_headers: Option<&'a IndexMap<String, String>>,
    pub class_path: KeyPath,
    pub timeout: Duration,
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
    if task_name.is_none() && step.weight.is_some() {
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
        return None;
    }
    let present = request_keys(step);
    for kind in ["set", "pause"] {
        if present.contains(&kind) {
            if let Some(key) = present.iter().find(|k| **k != kind) {
                cx.error(
                    path.key(*key),
                    PlanErrorKind::BadStep {
                        message: format!(
                            "a step sends a request, sets variables or pauses: `{key}` cannot go with `{kind}`"
                        ),
                    },
                );
                return None;
            }
        }
    }
    if let Some(pause) = &step.pause {
        return cx
            .duration(Some(pause), &path.key("pause"))
            .map(Action::Pause);
    }
    if let Some(set) = &step.set {
        let assignments = set
            .iter()
            .map(|(name, source)| {
                let text = compile_text(
                    cx,
                    context.class,
                    source,
                    &path.key("set").key(name.clone()),
                );
                (name.clone(), text)
            })
            .collect();
        return Some(Action::Set(assignments));
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
    request(cx, context, step, raw_path, path, task_name).map(Action::Request)
}

fn request(
    cx: &mut Compiler,
    context: &RequestContext,
    step: &RawStep,
    raw_path: &str,
    path: &KeyPath,
    task_name: Option<&String>,
) -> Option<RequestId> {
    let method_text = step.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    let method = match method_text.as_str() {
        known if METHODS.contains(&known) => {
            Method::from_bytes(method_text.as_bytes()).unwrap_or(Method::GET)
        }
        _ => {
            let hint = did_you_mean(&method_text, METHODS);
            cx.error_with_hint(
                path.key("method"),
                PlanErrorKind::BadMethod {
                    found: method_text.clone(),
                },
                hint,
            );
            Method::GET
        }
    };
    if !raw_path.starts_with('/') && !raw_path.starts_with("{{") {
        cx.error(
            path.key("path"),
            PlanErrorKind::BadStep {
                message: format!("path `{raw_path}` must start with `/`; it is joined to `host`"),
            },
        );
    }
    let url_path = compile_text(cx, context.class, raw_path, &path.key("path"));
    if let Text::Static(fixed) = &url_path {
        let checked = match &cx.target {
            Some(target) => target.url(fixed).map(drop),
            None => target::split_path(fixed).map(drop),
        };
        if let (true, Err(reason)) = (fixed.starts_with('/'), checked) {
            cx.error(
                path.key("path"),
                PlanErrorKind::BadStep {
                    message: format!("path `{}` {reason}", target::quoted(fixed)),
                },
            );
        }
    }
    let query = step
        .query
        .iter()
        .flatten()
        .map(|(k, v)| {
            (
                k.clone(),
                compile_text(cx, context.class, v, &path.key("query").key(k.clone())),
            )
        })
        .collect();

    let has_body = step.body.is_some() || step.body_file.is_some();
    let (static_headers, templated_headers) = headers(cx, context, step, path, has_body);
    // A JSON body must parse once rendered: the dry render checks it.
    let json_body = static_headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let body = match (&step.body, &step.body_file) {
        (Some(_), Some(_)) => {
            cx.error(
                path.key("body-file"),
                PlanErrorKind::BadStep {
                    message: "`body` and `body-file` both give the body: keep one".into(),
                },
            );
            None
        }
        (Some(body), None) => {
            let body_path = path.key("body");
            match compile_site(cx, context.class, body, &body_path, json_body) {
                Ok(text) => Some(text),
                Err(message) => {
                    cx.error(body_path, PlanErrorKind::Template { message });
                    None
                }
            }
        }
        (None, Some(file)) => body_file(cx, context.class, file, &path.key("body-file"), json_body),
        (None, None) => None,
    };

    let expect = match &step.expect_status {
        None => StatusSet::default_accepted(),
        Some(raw) => StatusSet::parse_items(raw.items()).unwrap_or_else(|message| {
            cx.error(
                path.key("expect-status"),
                PlanErrorKind::BadStatus { message },
            );
            StatusSet::default_accepted()
        }),
    };
    let timeout = cx
        .timeout(step.timeout.as_deref(), &path.key("timeout"))
        .unwrap_or(context.timeout);
    let name = step
        .name
        .clone()
        .or_else(|| task_name.cloned())
        .unwrap_or_else(|| raw_path.to_owned());
    let metric = cx.metric(&name, &method);
    let inspect = inspect::compile(cx, step, path, &name);
    let when = step.when.as_ref().and_then(|condition| {
        let source = condition_source(condition);
        match compile_text(cx, context.class, &source, &path.key("when")) {
            Text::Template(id) => Some(id),
            Text::Static(_) => None,
        }
    });
    let headers_read_body = templated_headers.iter().any(|(_, text)| match text {
        Text::Template(id) => cx.templates.undeclared(*id).contains("body"),
        Text::Static(_) => false,
    });
    cx.requests.push(RequestSpec {
        metric,
        method,
        path: url_path,
        // Set once the host is known (`compile`).
        url: None,
        query,
        static_headers,
        templated_headers,
        body,
        expect,
        timeout,
        inspect,
        when,
        headers_read_body,
    });
    Some(RequestId((cx.requests.len() - 1) as u32))
}

/// Compiles a template and remembers where it was written, for the checks.
pub(super) fn compile_text(cx: &mut Compiler, class: usize, source: &str, path: &KeyPath) -> Text {
    match compile_site(cx, class, source, path, false) {
        Ok(text) => text,
        Err(message) => {
            cx.error(path.clone(), PlanErrorKind::Template { message });
            Text::Static(String::new())
        }
    }
}

/// Compiles a header value: like any text, but it may read `body`, the request's
/// rendered body (to sign it, say).
fn compile_header(cx: &mut Compiler, class: usize, source: &str, path: &KeyPath) -> Text {
    let text = compile_text(cx, class, source, path);
    if let (Text::Template(_), Some(site)) = (&text, cx.sites.last_mut()) {
        site.reads_body = true;
    }
    text
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

fn body_file(
    cx: &mut Compiler,
    class: usize,
    file: &str,
    path: &KeyPath,
    json_body: bool,
) -> Option<Text> {
    let full = cx.plan.dir_of(path).join(file);
    let read = read_bounded(&full, MAX_PAYLOAD_BYTES, "a payload").and_then(|bytes| {
        String::from_utf8(bytes).map_err(|e| {
            ReadError::Io(format!(
                "not UTF-8 text: invalid bytes at byte {}",
                e.utf8_error().valid_up_to()
            ))
        })
    });
    match read {
        Ok(source) => match compile_site(cx, class, &source, path, json_body) {
            Ok(text) => Some(text),
            Err(message) => {
                cx.error(
                    path.clone(),
                    PlanErrorKind::Template {
                        message: format!("in `{}`: {message}", full.display()),
                    },
                );
                None
            }
        },
        Err(e) => {
            cx.error(
                path.clone(),
                PlanErrorKind::MissingPayload {
                    file: full.display().to_string(),
                    reason: e.to_string(),
                },
            );
            None
        }
    }
}

/// Merges plan, class and request headers (later wins, names case-insensitive) and
/// splits them into fixed and templated ones. A body without a `Content-Type` is JSON.
fn headers(
    cx: &mut Compiler,
    context: &RequestContext,
    step: &RawStep,
    path: &KeyPath,
    has_body: bool,
) -> (HeaderMap, Vec<(HeaderName, Text)>) {
    let mut merged: IndexMap<String, (String, KeyPath)> = IndexMap::new();
    let layers = [
        (cx.plan.raw.headers.as_ref(), KeyPath::root().key("headers")),
        (context.class_headers, context.class_path.key("headers")),
        (step.headers.as_ref(), path.key("headers")),
    ];
    for (layer, layer_path) in layers {
        for (name, value) in layer.into_iter().flatten() {
            merged.insert(
                name.to_ascii_lowercase(),
                (value.clone(), layer_path.key(name.clone())),
            );
        }
    }
    let mut fixed = HeaderMap::new();
    let mut templated = Vec::new();
    for (name, (value, value_path)) in merged {
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            cx.error(
                value_path,
                PlanErrorKind::BadHeader {
                    message: format!("`{name}` is not a valid header name"),
                },
            );
            continue;
        };
        match compile_header(cx, context.class, &value, &value_path) {
            Text::Static(text) => match HeaderValue::from_str(&text) {
                Ok(v) => {
                    fixed.insert(header, v);
                }
                Err(_) => cx.error(
                    value_path,
                    PlanErrorKind::BadHeader {
                        message: format!(
                            "the value of `{name}` has characters a header cannot carry"
                        ),
                    },
                ),
            },
            text => templated.push((header, text)),
        }
    }
    let has_content_type =
        fixed.contains_key(CONTENT_TYPE) || templated.iter().any(|(n, _)| n == CONTENT_TYPE);
    if has_body && !has_content_type {
        fixed.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    (fixed, templated)
}
