//! `Transport`: how requests reach the target. `HttpTransport` gives each virtual user
//! its own reqwest client, hence its own cookie jar and keep-alive connection, as a
//! browser would; tests use `FakeTransport` under virtual time.

use std::future::Future;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, Url};

use crate::metrics::Failure;

/// A request with every template rendered.
#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<String>,
    pub timeout: Duration,
}

/// What came back: the status and how many body bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub bytes: u64,
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

/// The real transport: reqwest over HTTP/1.1 keep-alive.
pub struct HttpTransport {
    prototype: reqwest::Client,
}

impl HttpTransport {
    /// Builds one client up front so that a broken setup fails before the run starts.
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            prototype: Self::client()?,
        })
    }

    fn client() -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .cookie_store(true)
            // A load test measures the target, never a proxy the environment happens to name.
            .no_proxy()
            .tcp_nodelay(true)
            // A user sends one request at a time: one idle connection is all it reuses.
            .pool_max_idle_per_host(1)
            .http1_only()
            .build()
    }
}

impl Transport for HttpTransport {
    type Session = HttpSession;

    fn session(&self) -> HttpSession {
        // `new` proved this configuration builds; should a later build still fail, the
        // shared prototype keeps the user working (with a shared jar) instead of dying.
        HttpSession {
            client: Self::client().unwrap_or_else(|_| self.prototype.clone()),
        }
    }
}

/// One user's reqwest client.
pub struct HttpSession {
    client: reqwest::Client,
}

impl Session for HttpSession {
    async fn send(&mut self, request: OutgoingRequest) -> Result<Response, Failure> {
        let mut builder = self
            .client
            .request(request.method, request.url)
            .headers(request.headers)
            .timeout(request.timeout);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let mut response = builder.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        // Count the body chunk by chunk rather than buffering it: only its size matters here.
        let mut bytes = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            bytes += chunk.len() as u64;
        }
        Ok(Response { status, bytes })
    }
}

/// Sorts reqwest's errors into failure categories.
fn classify(error: reqwest::Error) -> Failure {
    if error.is_timeout() {
        return Failure::Timeout;
    }
    if error.is_connect() {
        return Failure::Connect;
    }
    if error.is_body() || error.is_decode() {
        return Failure::Body;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            ) {
                return Failure::Connection;
            }
        }
        let text = cause.to_string();
        if text.contains("connection closed")
            || text.contains("IncompleteMessage")
            || text.contains("connection reset")
        {
            return Failure::Connection;
        }
        if text.contains("invalid HTTP") || text.contains("parse") {
            return Failure::Body;
        }
        source = cause.source();
    }
    Failure::Other(error.without_url().to_string())
}
