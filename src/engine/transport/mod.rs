//! `Transport`: how requests reach the target. `HttpTransport` gives each virtual user
//! its own cookie jar and keep-alive connection, as a browser would; tests use
//! `FakeTransport` under virtual time. planrun does not follow redirects: a 3xx is the
//! response to the request the plan sent, and is measured as such.

mod chunked;
mod http1;
mod tls;
mod wire;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::cookie::Jar;

use reqwest::header::HeaderMap;
use reqwest::{Method, Url};

use crate::metrics::Failure;
use http1::Http1Connection;
use tls::TlsConfig;

/// A request with every template rendered.
#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<String>,
    pub timeout: Duration,
    /// Keep the response's headers and up to `MAX_KEPT_BODY` bytes of its body, for
    /// extraction, checks and outcomes. Otherwise the body is only counted.
    pub inspect: bool,
}

/// The most of a response body kept for inspection; the rest is counted, not stored.
pub const MAX_KEPT_BODY: usize = 1024 * 1024;

/// What came back. `headers` and `body` are empty unless the request asked to inspect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Body bytes received (all of them, kept or not).
    pub bytes: u64,
    pub headers: HeaderMap,
    /// The body, up to `MAX_KEPT_BODY` bytes.
    pub body: Vec<u8>,
}

/// Where an inspected body's bytes go: kept up to the cap, the rest dropped.
#[derive(Debug, Default)]
pub(super) struct Kept {
    pub body: Vec<u8>,
}

impl Kept {
    pub fn push(&mut self, bytes: &[u8]) {
        let room = MAX_KEPT_BODY.saturating_sub(self.body.len());
        self.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// A way to send requests; one `Session` per virtual user.
pub trait Transport: Send + Sync + 'static {
    type Session: Session;
    fn session(&self) -> Self::Session;
}

/// One user's connection state (cookies, keep-alive connections).
pub trait Session: Send + 'static {
    /// Sends a request and reads the whole response body. Every failure is a `Failure`:
    /// a misbehaving target is data, never an error of planrun's.
    fn send(
        &mut self,
        request: OutgoingRequest,
    ) -> impl Future<Output = Result<Response, Failure>> + Send;
}

/// The real transport: planrun's own HTTP/1.1 connections for `http://` (see `http1`),
/// reqwest with rustls for `https://`.
#[derive(Default)]
pub struct HttpTransport {
    /// Built on the first HTTPS request, so plain-HTTP runs never read the system's roots.
    tls: Arc<OnceLock<Result<TlsConfig, String>>>,
}

impl HttpTransport {
    /// A transport for a run against `host`. For an `https://` host the TLS set-up happens
    /// here, so a machine without root certificates fails before the run, not per request.
    pub fn for_host(host: &str) -> Result<Self, String> {
        let transport = Self::default();
        if host.starts_with("https://") {
            transport.tls.get_or_init(TlsConfig::system).clone()?;
        }
        Ok(transport)
    }
}

impl Transport for HttpTransport {
    type Session = HttpSession;

    fn session(&self) -> HttpSession {
        HttpSession {
            plain: Http1Connection::default(),
            jar: Arc::new(Jar::default()),
            tls_client: None,
            tls: Arc::clone(&self.tls),
        }
    }
}

/// One user's connections and cookie jar.
pub struct HttpSession {
    plain: Http1Connection,
    /// Shared by both paths, so a cookie set over HTTPS is sent over HTTP where it applies.
    jar: Arc<Jar>,
    /// The user's HTTPS client, made on its first HTTPS request.
    tls_client: Option<reqwest::Client>,
    tls: Arc<OnceLock<Result<TlsConfig, String>>>,
}

impl HttpSession {
    async fn send_once(&mut self, request: &OutgoingRequest) -> Result<Response, Failure> {
        if request.url.scheme() != "https" {
            return self.plain.send(request, &self.jar).await;
        }
        if self.tls_client.is_none() {
            let config = self.tls.get_or_init(TlsConfig::system).clone();
            let client = config
                .and_then(|config| {
                    config
                        .client(Arc::clone(&self.jar))
                        .map_err(|e| e.to_string())
                })
                .map_err(|message| Failure::Other(format!("TLS set-up: {message}")))?;
            self.tls_client = Some(client);
        }
        let client = self.tls_client.as_ref().expect("made above");
        tls::send(client, request).await
    }
}

impl Session for HttpSession {
    async fn send(&mut self, request: OutgoingRequest) -> Result<Response, Failure> {
        // One deadline over connecting, sending and reading the whole body. Dropping the
        // exchange at the deadline drops its socket too: a late response is never read.
        tokio::time::timeout(request.timeout, self.send_once(&request))
            .await
            .unwrap_or(Err(Failure::Timeout))
    }
}
