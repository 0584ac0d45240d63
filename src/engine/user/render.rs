//! Renders a request's templates, in a user's scope, into an `OutgoingRequest`. An error
//! names the field and the request, and `explain` the variable.

use std::borrow::Cow;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::User;
use crate::compile::templates::explain;
use crate::compile::{ExecPlan, RequestId, RequestSpec, Text, quoted};
use crate::engine::transport::{OutgoingRequest, Transport};

impl<T: Transport> User<T> {
    /// Renders a request's templates into something a transport can send.
    pub(super) fn prepare(&self, id: RequestId) -> Result<OutgoingRequest, String> {
        let exec = &self.shared.exec;
        let spec = exec.request(id);
        let scope = &self.scope_value;
        let fields = Fields {
            exec,
            request: &exec.request_name(spec.name).name,
        };
        let mut url = match &spec.url {
            Some(url) => url.clone(),
            None => fields.url(&spec.path, scope)?,
        };
        fields.append_query(&mut url, &spec.query, scope)?;
        let body = spec
            .body
            .as_ref()
            .map(|b| fields.render(b, scope, "body").map(Cow::into_owned))
            .transpose()?;
        let headers = fields.headers(spec, body.as_deref(), scope)?;
        Ok(OutgoingRequest {
            method: spec.method.clone(),
            url,
            headers,
            body,
            timeout: spec.timeout,
            inspect: spec.inspect.is_needed().then_some(exec.max_body),
        })
    }
}

/// Renders the fields of one request of `exec`, named `request` in errors.
struct Fields<'a> {
    exec: &'a ExecPlan,
    request: &'a str,
}

impl Fields<'_> {
    /// Renders `text`, the request's `field`, in `scope`.
    fn render<'t>(
        &self,
        text: &'t Text,
        scope: &minijinja::Value,
        field: &str,
    ) -> Result<Cow<'t, str>, String> {
        self.exec
            .templates
            .render_text(text, scope)
            .map_err(|e| self.failed(field, text, scope, e))
    }

    /// Says why `text`, the request's `field`, failed to render in `scope` with `e`.
    fn failed(
        &self,
        field: &str,
        text: &Text,
        scope: &minijinja::Value,
        e: minijinja::Error,
    ) -> String {
        let request = self.request;
        let explained = explain(&self.exec.templates, text, scope, &e);
        format!("{field} of `{request}`: {explained}")
    }

    /// Renders a templated `path` in `scope` into the request's URL.
    fn url(&self, path: &Text, scope: &minijinja::Value) -> Result<Url, String> {
        // Only the path and query come from the rendered text: the scheme, host and port
        // are the plan's, whatever a value says.
        let path = self.render(path, scope, "path")?;
        self.exec.target.url(&path).map_err(|reason| {
            format!(
                "the path of `{}` rendered to `{}`, which {reason}",
                self.request,
                quoted(&path)
            )
        })
    }

    /// Renders the `query` parameters in `scope` and appends them to `url`.
    fn append_query(
        &self,
        url: &mut Url,
        query: &[(String, Text)],
        scope: &minijinja::Value,
    ) -> Result<(), String> {
        if query.is_empty() {
            return Ok(());
        }
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query {
            let rendered = self
                .exec
                .templates
                .render_text(value, scope)
                .map_err(|e| self.failed(&format!("query `{name}`"), value, scope, e))?;
            pairs.append_pair(name, &rendered);
        }
        Ok(())
    }

    /// Gives the request's headers: the static ones, and the templated ones rendered in
    /// `scope` (with the rendered `body` in it when they read it). A header that renders
    /// empty is left out.
    fn headers(
        &self,
        spec: &RequestSpec,
        body: Option<&str>,
        scope: &minijinja::Value,
    ) -> Result<HeaderMap, String> {
        // Headers that sign the body see it as `body`.
        let header_scope = if spec.headers_read_body {
            let body = body.unwrap_or_default();
            minijinja::context! { body => body, ..scope.clone() }
        } else {
            scope.clone()
        };
        let mut headers = spec.static_headers.clone();
        for (name, value) in &spec.templated_headers {
            let rendered = self
                .exec
                .templates
                .render_text(value, &header_scope)
                .map_err(|e| {
                    let field = format!("header `{}`", title_case(name));
                    self.failed(&field, value, &header_scope, e)
                })?;
            // A header that renders empty is left out (`{% if token is defined %}…`).
            if rendered.is_empty() {
                continue;
            }
            let value = HeaderValue::from_str(&rendered).map_err(|_| {
                format!("header `{name}` rendered to a value a header cannot carry")
            })?;
            headers.insert(name.clone(), value);
        }
        Ok(headers)
    }
}

/// `x-request-id` → `X-Request-Id`: a header name as plans usually write it (the compiled
/// name is lower case).
fn title_case(name: &HeaderName) -> String {
    name.as_str()
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}
