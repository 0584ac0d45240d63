//! One request step → a `RequestSpec`: method, URL, query, headers, body, expected
//! statuses, timeout, inspections and `when`.

use http::Method;
use http::header::{CONTENT_TYPE, HeaderMap};
use url::Url;

use super::{Compiler, RequestContext, body, compile_text, headers};
use crate::compile::graph::{RequestId, RequestSpec};
use crate::compile::inspect;
use crate::compile::target;
use crate::compile::templates::{TemplateId, Text, condition_source};
use crate::plan::raw::RawStep;
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};
use crate::units::StatusSet;

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Compiles a request step and registers its `RequestSpec`. Each part is compiled in
/// the order it is written in a step, so that errors are reported in that order.
pub(super) fn request(
    cx: &mut Compiler,
    context: &RequestContext,
    step: &RawStep,
    raw_path: &str,
    path: &KeyPath,
    task_name: Option<&String>,
) -> Option<RequestId> {
    let method = method(cx, step, path);
    let (url_path, url) = url_path(cx, context.class, raw_path, path);
    let query = step
        .query
        .iter()
        .flatten()
        .map(|(k, v)| {
            let text = compile_text(cx, context.class, v, &path.key("query").key(k.clone()));
            (k.clone(), text)
        })
        .collect();
    let has_body = step.body.is_some() || step.body_file.is_some();
    let (static_headers, templated_headers) = headers::compile(cx, context, step, path, has_body);
    let body = body::compile(cx, context.class, step, path, is_json(&static_headers));
    let expect = expect_status(cx, step, path);
    let timeout = cx
        .timeout(step.timeout.as_deref(), &path.key("timeout"))
        .unwrap_or(context.timeout);
    let name = step
        .name
        .clone()
        .or_else(|| task_name.cloned())
        .unwrap_or_else(|| raw_path.to_owned());
    let metric = cx.name_id(&name, &method);
    let inspect = inspect::compile(cx, step, path, &name);
    let when = when(cx, context.class, step, path);
    let headers_read_body = headers::read_body(cx, &templated_headers);
    cx.requests.push(RequestSpec {
        name: metric,
        method,
        path: url_path,
        url,
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

/// The step's `method` (default `GET`); an unknown one is reported and read as `GET`.
fn method(cx: &mut Compiler, step: &RawStep, path: &KeyPath) -> Method {
    let method_text = step.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    if METHODS.contains(&method_text.as_str()) {
        return Method::from_bytes(method_text.as_bytes()).unwrap_or(Method::GET);
    }
    let hint = did_you_mean(&method_text, METHODS);
    cx.error_with_hint(
        path.key("method"),
        PlanErrorKind::BadMethod { found: method_text },
        hint,
    );
    Method::GET
}

/// The step's `path`, compiled, and for a fixed path with the host known, its whole URL:
/// nothing is left to decide at run time.
fn url_path(
    cx: &mut Compiler,
    class: usize,
    raw_path: &str,
    path: &KeyPath,
) -> (Text, Option<Url>) {
    if !raw_path.starts_with('/') && !raw_path.starts_with("{{") {
        cx.error(
            path.key("path"),
            PlanErrorKind::BadStep {
                message: format!("path `{raw_path}` must start with `/`; it is joined to `host`"),
            },
        );
    }
    let url_path = compile_text(cx, class, raw_path, &path.key("path"));
    let url = match &url_path {
        Text::Static(fixed) => fixed_url(cx, fixed, path),
        Text::Template(_) => None,
    };
    (url_path, url)
}

/// The URL of a fixed path, once the host is known; a path that cannot make one is
/// reported (one without a leading `/` already was).
fn fixed_url(cx: &mut Compiler, fixed: &str, path: &KeyPath) -> Option<Url> {
    let checked = match &cx.target {
        Some(target) => target.url(fixed).map(Some),
        None => target::split_path(fixed).map(|_| None),
    };
    match checked {
        Ok(url) => url,
        Err(reason) => {
            if fixed.starts_with('/') {
                cx.error(
                    path.key("path"),
                    PlanErrorKind::BadStep {
                        message: format!("path `{}` {reason}", target::quoted(fixed)),
                    },
                );
            }
            None
        }
    }
}

/// Whether the fixed headers say the body is JSON: then it must parse once rendered,
/// which the dry render checks.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

/// The step's `expect-status`, else the default accepted statuses.
fn expect_status(cx: &mut Compiler, step: &RawStep, path: &KeyPath) -> StatusSet {
    let Some(raw) = &step.expect_status else {
        return StatusSet::default_accepted();
    };
    StatusSet::parse_items(raw.items()).unwrap_or_else(|message| {
        cx.error(
            path.key("expect-status"),
            PlanErrorKind::BadStatus { message },
        );
        StatusSet::default_accepted()
    })
}

/// The step's `when` condition as a template (a constant one is no condition).
fn when(cx: &mut Compiler, class: usize, step: &RawStep, path: &KeyPath) -> Option<TemplateId> {
    let condition = step.when.as_ref()?;
    let source = condition_source(condition);
    match compile_text(cx, class, &source, &path.key("when")) {
        Text::Template(id) => Some(id),
        Text::Static(_) => None,
    }
}
