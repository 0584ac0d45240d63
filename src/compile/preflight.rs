//! `Preflight`: the one request sent before the load to confirm the target answers, so
//! that a wrong host or a stopped server costs seconds, not the whole test.
//!
//! Chosen, in order:
//! 1. the plan's `preflight: PATH` (a GET that must answer 200–399);
//! 2. the plan's first health-check request (a GET whose name or path contains `health`,
//!    or whose path ends in `/ping`, `/ready`, `/readyz` or `/livez`, with no templates),
//!    sent with its headers and held to its `expect-status`;
//! 3. otherwise a GET of the host's root, where any HTTP answer, even a 404, will do:
//!    it proves something listens and speaks HTTP.

use std::time::Duration;

use http::Method;
use http::header::HeaderMap;

use super::context::Compiler;
use super::graph::RequestSpec;
use super::templates::Text;
use crate::plan::{KeyPath, PlanErrorKind};
use crate::units::StatusSet;

/// The preflight never waits longer than this, whatever the request's timeout.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// Where the preflight request came from, for the message when it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreflightOrigin {
    /// The plan's `preflight` key.
    Declared,
    /// The plan's health-check request of this name.
    HealthCheck(String),
    /// No health check: the host's root.
    HostRoot,
}

/// The compiled preflight request.
#[derive(Debug, Clone)]
pub struct Preflight {
    /// Path and query, joined to the host.
    pub path: String,
    pub headers: HeaderMap,
    /// The statuses that count as answering; `None`: any HTTP response.
    pub expect: Option<StatusSet>,
    pub(crate) timeout: Duration,
    pub origin: PreflightOrigin,
}

/// Compiles the preflight from the plan's `preflight` key or its requests.
pub(super) fn compile(cx: &mut Compiler, default_timeout: Duration) -> Preflight {
    let timeout = default_timeout.min(MAX_WAIT);
    if let Some(path) = cx.plan.raw.preflight.clone() {
        let problem = if !path.starts_with('/') {
            Some("must start with `/`; it is joined to `host`")
        } else if super::templates::is_template(&path) {
            Some("is sent before any user exists: expected a path without templates")
        } else {
            None
        };
        if let Some(problem) = problem {
            cx.error(
                KeyPath::root().key("preflight"),
                PlanErrorKind::BadStep {
                    message: format!("preflight path `{path}` {problem}"),
                },
            );
        }
        return Preflight {
            path,
            headers: HeaderMap::new(),
            expect: Some(StatusSet::default_accepted()),
            timeout,
            origin: PreflightOrigin::Declared,
        };
    }
    let health = cx.requests.iter().find_map(|request| {
        let name = &cx.request_names[request.name.0 as usize].name;
        health_check_path(request, name).map(|path| (request, name, path))
    });
    match health {
        Some((request, name, path)) => Preflight {
            path,
            headers: request.static_headers.clone(),
            expect: Some(request.expect.clone()),
            timeout: request.timeout.min(MAX_WAIT),
            origin: PreflightOrigin::HealthCheck(name.clone()),
        },
        None => Preflight {
            path: "/".into(),
            headers: HeaderMap::new(),
            expect: None,
            timeout,
            origin: PreflightOrigin::HostRoot,
        },
    }
}

/// The path and query of `request` if it is a health check that needs no rendering.
fn health_check_path(request: &RequestSpec, name: &str) -> Option<String> {
    if request.method != Method::GET || request.body.is_some() {
        return None;
    }
    if !request.templated_headers.is_empty() {
        return None;
    }
    let Text::Static(path) = &request.path else {
        return None;
    };
    let looks_like_health = |text: &str| {
        let text = text.to_ascii_lowercase();
        text.contains("health")
            || ["/ping", "/ready", "/readyz", "/livez"]
                .iter()
                .any(|end| text.ends_with(end))
    };
    if !looks_like_health(name) && !looks_like_health(path) {
        return None;
    }
    let mut query = Vec::new();
    for (key, value) in &request.query {
        let Text::Static(value) = value else {
            return None;
        };
        query.push((key.as_str(), value.as_str()));
    }
    if query.is_empty() {
        return Some(path.clone());
    }
    let encoded: String = url::Url::parse_with_params("http://x/", &query)
        .ok()?
        .query()?
        .to_owned();
    Some(format!("{path}?{encoded}"))
}
