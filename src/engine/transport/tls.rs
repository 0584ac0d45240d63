//! HTTPS through reqwest with rustls: one client per user that sends to an `https://`
//! URL, sharing the user's cookie jar and the TLS configuration (roots loaded once).

use std::sync::Arc;
use std::time::Duration;

use reqwest::cookie::Jar;

use super::{Kept, OutgoingRequest, Response};
use crate::engine::{Failure, LocalLimit};

/// The TLS settings every user's client starts from, built once per run.
#[derive(Clone)]
pub(super) struct TlsConfig(Arc<rustls::ClientConfig>);

impl TlsConfig {
    /// Trusts the system's root certificates, as a browser on this machine would.
    pub(crate) fn system() -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            return Err(format!(
                "no system root certificates found ({} errors)",
                found.errors.len()
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self(Arc::new(config)))
    }

    /// A user's client; a pooled connection idle for `connection_idle` is closed, not
    /// reused (reqwest's own default is 90 s).
    pub(crate) fn client(
        &self,
        jar: Arc<Jar>,
        connection_idle: Option<Duration>,
    ) -> Result<reqwest::Client, reqwest::Error> {
        let builder = match connection_idle {
            Some(idle) => reqwest::Client::builder().pool_idle_timeout(idle),
            None => reqwest::Client::builder(),
        };
        builder
            .use_preconfigured_tls((*self.0).clone())
            .cookie_provider(jar)
            // A load test measures the target, never a proxy the environment happens to name.
            .no_proxy()
            // A 3xx is the response to the request sent, as on the plain-HTTP path.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1)
            .http1_only()
            .build()
    }
}

pub(super) async fn send(
    client: &reqwest::Client,
    request: &OutgoingRequest,
) -> Result<Response, Failure> {
    let mut builder = client
        .request(request.method.clone(), request.url.clone())
        .headers(request.headers.clone());
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let mut response = builder.send().await.map_err(classify)?;
    let status = response.status().as_u16();
    let headers = if request.inspect.is_some() {
        response.headers().clone()
    } else {
        Default::default()
    };
    // Count the body chunk by chunk to its end (so the connection can be reused); keep
    // its start, up to the cap, only when it will be inspected.
    let mut bytes = 0u64;
    let mut kept = request.inspect.map(Kept::new);
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        bytes += chunk.len() as u64;
        if let Some(kept) = &mut kept {
            kept.push(&chunk);
        }
    }
    let (body, truncated) = kept.map(Kept::finish).unwrap_or_default();
    Ok(Response {
        status,
        bytes,
        headers,
        body,
        truncated,
    })
}

/// Sorts reqwest's errors into failure categories by walking the error's causes.
fn classify(error: reqwest::Error) -> Failure {
    if error.is_body() || error.is_decode() {
        return Failure::Body;
    }
    for cause in causes(&error) {
        if cause.downcast_ref::<rustls::Error>().is_some() {
            return Failure::Tls;
        }
        if cause
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse)
        {
            return Failure::InvalidHttp;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if let Some(limit) = LocalLimit::from_io(io) {
                return Failure::LocalResources(limit);
            }
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionRefused | AddrNotAvailable | NetworkUnreachable | HostUnreachable => {
                    return Failure::Connect;
                }
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                    return Failure::Connection;
                }
                _ => {}
            }
        }
        if cause.to_string().starts_with("dns error") {
            return Failure::Dns;
        }
    }
    if error.is_connect() {
        return Failure::Connect;
    }
    Failure::Other(error.without_url().to_string())
}

/// Every cause under `error`. `io::Error::source` skips the error an `io::Error` wraps
/// (where rustls puts its own), so wrapped errors are visited explicitly.
fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut found = Vec::new();
    let mut pending = vec![error];
    while let Some(cause) = pending.pop() {
        found.push(cause);
        if let Some(inner) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            pending.push(inner);
        } else if let Some(source) = cause.source() {
            pending.push(source);
        }
    }
    found
}
