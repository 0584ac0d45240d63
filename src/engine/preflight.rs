//! Preflight: sends the plan's `Preflight` request once, through the run's transport,
//! before any user starts. A target that does not answer stops the run here, with the
//! host and the reason, instead of failing every request for the whole test.

use http::Method;

use super::transport::{OutgoingRequest, Session, Transport};
use crate::compile::{ExecPlan, PreflightOrigin};

/// Why the target did not pass the preflight.
#[derive(Debug, thiserror::Error)]
#[error("preflight failed: `GET {url}` ({origin}) {problem}")]
pub struct PreflightError {
    /// The target's base URL.
    pub(crate) host: String,
    /// The URL requested.
    pub(crate) url: String,
    /// Where the request came from (`the host's root`, `health check \`health\``).
    pub(crate) origin: String,
    /// What went wrong: `got no answer: connection refused or unreachable`, `answered 503`.
    pub(crate) problem: String,
}

/// Sends the preflight request; `Ok` when the target answered as expected.
pub async fn preflight<T: Transport>(exec: &ExecPlan, transport: &T) -> Result<(), PreflightError> {
    let check = &exec.preflight;
    let raw_url = format!("{}{}", exec.host, check.path);
    let origin = match &check.origin {
        PreflightOrigin::Declared => "the plan's `preflight`".to_owned(),
        PreflightOrigin::HealthCheck(name) => format!("health check `{name}`"),
        PreflightOrigin::HostRoot => "the host's root".to_owned(),
    };
    let fail = |problem: String| PreflightError {
        host: exec.host.clone(),
        url: raw_url.clone(),
        origin: origin.clone(),
        problem,
    };
    let url = exec
        .target
        .url(&check.path)
        .map_err(|reason| fail(format!("is not a path of the host: it {reason}")))?;
    let request = OutgoingRequest {
        method: Method::GET,
        url,
        headers: check.headers.clone(),
        body: None,
        timeout: check.timeout,
        inspect: None,
    };
    let response = transport.session().send(request).await.map_err(|failure| {
        let message = failure.to_string();
        let category = failure.category();
        fail(if message == category {
            format!("got no answer: {category}")
        } else {
            format!("got no answer: {category} ({message})")
        })
    })?;
    match &check.expect {
        Some(expect) if !expect.contains(response.status) => Err(fail(format!(
            "answered {}, expected {expect}",
            response.status
        ))),
        _ => Ok(()),
    }
}
