//! A request's headers: plan, class and request ones merged, split into fixed and
//! templated values.

use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use indexmap::IndexMap;

use super::{Compiler, RequestContext, compile_text};
use crate::compile::templates::Text;
use crate::plan::raw::RawStep;
use crate::plan::{KeyPath, PlanErrorKind};

/// Merges plan, class and request headers (later wins, names case-insensitive) and
/// splits them into fixed and templated ones. A body without a `Content-Type` is JSON.
pub(super) fn compile(
    cx: &mut Compiler,
    context: &RequestContext,
    step: &RawStep,
    path: &KeyPath,
    has_body: bool,
) -> (HeaderMap, Vec<(HeaderName, Text)>) {
    let mut fixed = HeaderMap::new();
    let mut templated = Vec::new();
    for (name, (value, value_path)) in merged(cx, context, step, path) {
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

/// The plan's, the class's and the step's headers by lowercase name (later wins), each
/// value with where it was written.
fn merged(
    cx: &Compiler,
    context: &RequestContext,
    step: &RawStep,
    path: &KeyPath,
) -> IndexMap<String, (String, KeyPath)> {
    let mut merged = IndexMap::new();
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
    merged
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

/// Whether a templated header reads `body`: then the body is rendered first.
pub(super) fn read_body(cx: &Compiler, templated: &[(HeaderName, Text)]) -> bool {
    templated.iter().any(|(_, text)| match text {
        Text::Template(id) => cx.templates.undeclared(*id).contains("body"),
        Text::Static(_) => false,
    })
}
