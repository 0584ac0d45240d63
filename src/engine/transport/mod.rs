//! `Transport`: how requests reach the target. `HttpTransport` gives each virtual user
//! its own cookie jar and keep-alive connection, as a browser would, with one HTTP/1.1
//! client over TCP or TLS: `http://` and `https://` send the same bytes and fail the same
//! ways. Tests use `FakeTransport` under virtual time. planrun does not follow
//! redirects: a 3xx is the response to the request the plan sent, and is measured as such.

mod chunked;
mod cookies;
mod http1;
mod stream;
mod tls;
mod wire;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::Method;
use http::header::HeaderMap;
use url::Url;

use crate::compile::TlsOptions;
use crate::engine::Failure;
use crate::units::ByteSize;
use cookies::Jar;
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
    /// `Some(max_body)`: keep the response's headers and up to `max_body` bytes of its
    /// body, for extraction, checks and outcomes. The rest of the body is still read (the
    /// connection stays reusable) and counted, never stored. `None`: only count the body.
    pub inspect: Option<ByteSize>,
}

/// What came back. `headers` and `body` are empty unless the request asked to inspect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Body bytes received (all of them, kept or not).
    pub bytes: u64,
    pub headers: HeaderMap,
    /// The body, up to the request's `max_body` bytes.
    pub body: Vec<u8>,
    /// The body was longer than the request's `max_body`: `body` holds only its start.
    pub truncated: bool,
}

/// Where an inspected body's bytes go: kept up to the cap, the rest dropped (and noted).
#[derive(Debug)]
pub(super) struct Kept {
    body: Vec<u8>,
    cap: usize,
    truncated: bool,
}

impl Kept {
    pub(super) fn new(cap: ByteSize) -> Self {
        Self {
            body: Vec::new(),
            cap: cap.as_usize(),
            truncated: false,
        }
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let take = bytes.len().min(self.cap.saturating_sub(self.body.len()));
        self.truncated |= take < bytes.len();
        if self.body.capacity() - self.body.len() < take {
            // Grow by doubling as `Vec` would, but never past the cap: it bounds the
            // memory an inspecting user holds, not only the length it keeps.
            let wanted = (self.body.len() + take)
                .max(self.body.capacity() * 2)
                .min(self.cap);
            self.body.reserve_exact(wanted - self.body.len());
        }
        self.body.extend_from_slice(&bytes[..take]);
    }

    /// The kept start of the body, and whether any of it was dropped.
    pub(super) fn finish(self) -> (Vec<u8>, bool) {
        (self.body, self.truncated)
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

/// The real transport: planrun's own HTTP/1.1 connections (see `http1`), over TLS for
/// `https://` (see `tls`).
#[derive(Default)]
pub struct HttpTransport {
    /// The run's TLS set-up, shared by every user.
    tls: Arc<LazyTls>,
    /// A kept-alive connection idle this long is replaced before the next request
    /// (`connection-idle`); `None`: reused however long it waited.
    connection_idle: Option<Duration>,
}

impl HttpTransport {
    /// A transport for a run against `host`, trusting the system's roots. For an
    /// `https://` host the TLS set-up happens here, so a machine without root certificates
    /// fails before the run, not per request.
    pub fn for_host(host: &str) -> Result<Self, String> {
        Self::with_tls(host, TlsOptions::default())
    }

    /// A transport for a run against `host` with the plan's `tls` options; their set-up
    /// (roots, client certificate) happens here for an `https://` host.
    pub fn with_tls(host: &str, options: TlsOptions) -> Result<Self, String> {
        let transport = Self {
            tls: Arc::new(LazyTls {
                options,
                config: OnceLock::new(),
            }),
            ..Self::default()
        };
        if host.starts_with("https://") {
            transport.tls.config().map_err(Clone::clone)?;
        }
        Ok(transport)
    }

    /// Replaces, rather than reuses, a connection idle for `idle` or longer: a server
    /// closes an idle connection at its keep-alive timeout, and a request sent as it does
    /// fails. Browsers keep idle connections for less than the servers they talk to.
    pub(crate) fn with_connection_idle(mut self, idle: Duration) -> Self {
        self.connection_idle = Some(idle);
        self
    }
}

/// The plan's TLS options and the configuration made of them, built once, on first use,
/// so plain-HTTP runs never read the system's roots.
#[derive(Default)]
struct LazyTls {
    options: TlsOptions,
    config: OnceLock<Result<TlsConfig, String>>,
}

impl LazyTls {
    fn config(&self) -> Result<&TlsConfig, &String> {
        self.config
            .get_or_init(|| TlsConfig::new(&self.options))
            .as_ref()
    }
}

impl Transport for HttpTransport {
    type Session = HttpSession;

    fn session(&self) -> HttpSession {
        HttpSession {
            connection: Http1Connection::new(self.connection_idle),
            jar: Jar::default(),
            tls: Arc::clone(&self.tls),
        }
    }
}

/// One user's connection and cookie jar.
pub struct HttpSession {
    connection: Http1Connection,
    /// One jar for both schemes, so a cookie set over HTTPS is sent over HTTP where it
    /// applies.
    jar: Jar,
    tls: Arc<LazyTls>,
}

impl HttpSession {
    async fn send_once(&mut self, request: &OutgoingRequest) -> Result<Response, Failure> {
        if request.url.scheme() != "https" {
            return self.connection.send(request, &mut self.jar, None).await;
        }
        let tls = self
            .tls
            .config()
            .map_err(|message| Failure::Other(format!("TLS set-up: {message}")))?;
        self.connection
            .send(request, &mut self.jar, Some(tls))
            .await
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_body_within_the_cap_is_kept_whole() {
        let mut kept = Kept::new(ByteSize::kib(1));
        kept.push(b"{\"id\":");
        kept.push(b"42}");
        assert_eq!(kept.finish(), (b"{\"id\":42}".to_vec(), false));

        let mut exactly = Kept::new(ByteSize::bytes(4));
        exactly.push(b"ab");
        exactly.push(b"cd");
        exactly.push(b"");
        assert_eq!(exactly.finish(), (b"abcd".to_vec(), false));
    }

    #[test]
    fn a_body_over_the_cap_keeps_its_start_and_says_it_was_cut() {
        let cap = ByteSize::kib(64);
        let mut kept = Kept::new(cap);
        let chunk = vec![b'x'; 8 * 1024];
        // 16 MiB in 8 KiB reads, as the plain-HTTP path delivers an oversized body.
        for _ in 0..2048 {
            kept.push(&chunk);
        }
        assert!(
            kept.body.capacity() <= cap.as_usize(),
            "{}",
            kept.body.capacity()
        );
        let (body, truncated) = kept.finish();
        assert_eq!(body.len(), cap.as_usize());
        assert!(truncated);
    }

    proptest! {
        #[test]
        fn the_kept_body_never_exceeds_the_cap(
            cap in 1usize..5000,
            chunks in proptest::collection::vec(0usize..3000, 0..20),
        ) {
            let mut kept = Kept::new(ByteSize::bytes(cap as u64));
            let mut sent = Vec::new();
            for (i, len) in chunks.iter().enumerate() {
                let chunk = vec![i as u8; *len];
                kept.push(&chunk);
                sent.extend_from_slice(&chunk);
                prop_assert!(kept.body.len() <= cap);
                prop_assert!(kept.body.capacity() <= cap);
            }
            let (body, truncated) = kept.finish();
            prop_assert_eq!(&body[..], &sent[..sent.len().min(cap)]);
            prop_assert_eq!(truncated, sent.len() > cap);
        }
    }
}
