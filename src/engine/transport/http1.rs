//! `Http1Connection`: one virtual user's keep-alive connection, over TCP or TLS.
//!
//! A user sends one request at a time, so its own task drives the socket directly: no
//! connection task, no channel between them, and no buffer kept while the user thinks.
//! An idle user costs its socket and little else, where a pooled client keeps a
//! dispatch channel and two buffers per idle connection (docs/benchmarks.md has what
//! that cost at 10,000 users). httparse parses; `wire` and `ChunkedBody` apply the framing,
//! the same for `http://` and `https://` (only `Stream` knows which).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use tokio::time::Instant;

use super::chunked::ChunkedBody;
use super::cookies::Jar;
use super::stream::Stream;
use super::tls::{self, TlsConfig};
use super::wire::{self, Framing};
use super::{Kept, OutgoingRequest, Response};
use crate::engine::{Failure, LocalLimit};

#[derive(Debug, Default)]
pub(super) struct Http1Connection {
    /// The kept-alive connection between requests, and since when it has been idle;
    /// `None` until the first one or after a close.
    idle: Option<(Stream, Instant)>,
    /// A connection idle this long is closed rather than reused (`connection-idle`).
    idle_limit: Option<Duration>,
    /// This user's TLS configuration (its own session store), made on its first
    /// `https://` connection.
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// How an exchange on one socket ended badly.
enum ExchangeError {
    /// The socket failed before any response byte arrived: on a reused connection this is
    /// the server having closed it while idle, and an idempotent request may be resent.
    NothingReceived(Failure),
    Failed(Failure),
}

impl Http1Connection {
    pub(super) fn new(idle_limit: Option<Duration>) -> Self {
        Self {
            idle: None,
            idle_limit,
            tls: None,
        }
    }

    /// Sends `request` on the kept-alive connection, else on a new one: over TLS with
    /// `tls` (the run's configuration) for an `https://` URL.
    pub(crate) async fn send(
        &mut self,
        request: &OutgoingRequest,
        jar: &mut Jar,
        tls: Option<&TlsConfig>,
    ) -> Result<Response, Failure> {
        let cookie = jar.header(&request.url);
        let cookie = cookie.as_deref();
        let mut bytes = Vec::with_capacity(256 + request.body.as_ref().map_or(0, String::len));
        wire::write_request(&mut bytes, request, cookie);

        if let Some(stream) = self.take_live() {
            match self.exchange(stream, &bytes, request, jar).await {
                Err(ExchangeError::NothingReceived(_)) if is_idempotent(&request.method) => {}
                // Not resent: the server may have acted on it. It is still a race of
                // keep-alive, not the target failing, and the reason says so.
                Err(ExchangeError::NothingReceived(Failure::Connection)) => {
                    return Err(Failure::IdleConnectionClosed);
                }
                Err(ExchangeError::NothingReceived(failure) | ExchangeError::Failed(failure)) => {
                    return Err(failure);
                }
                Ok(response) => return Ok(response),
            }
        }
        let stream = match tls {
            Some(shared) => {
                let user = self.tls.get_or_insert_with(|| shared.for_user());
                Stream::connect(&request.url, Some((user, shared))).await?
            }
            None => Stream::connect(&request.url, None).await?,
        };
        self.exchange(stream, &bytes, request, jar)
            .await
            .map_err(|(ExchangeError::NothingReceived(f) | ExchangeError::Failed(f))| f)
    }

    /// The idle connection, if the server has not closed it meanwhile.
    fn take_live(&mut self) -> Option<Stream> {
        let (stream, since) = self.idle.take()?;
        if self
            .idle_limit
            .is_some_and(|limit| since.elapsed() >= limit)
        {
            // The server may be closing it right now: close it first, as a browser does.
            return None;
        }
        stream.is_live().then_some(stream)
    }

    /// Writes the request, reads the whole response; keeps the socket if it may be reused.
    async fn exchange(
        &mut self,
        mut stream: Stream,
        request_bytes: &[u8],
        request: &OutgoingRequest,
        jar: &mut Jar,
    ) -> Result<Response, ExchangeError> {
        if let Err(error) = stream.write_all(request_bytes).await {
            return Err(ExchangeError::NothingReceived(io_failure(&error)));
        }
        // No buffer until the answer arrives: `read_more` allocates once the socket is
        // readable, so a request waiting on a slow server holds none.
        let mut buf = Vec::new();
        let mut received = false;
        let head = 'head: loop {
            // Parse what has arrived; skip provisional 1xx responses before the real one.
            loop {
                match wire::parse_head(&buf, &request.method, request.inspect.is_some()) {
                    Ok(Some(head)) if head.is_informational() => drop(buf.drain(..head.len)),
                    Ok(Some(head)) => break 'head head,
                    Ok(None) => break,
                    Err(_) => return Err(ExchangeError::Failed(Failure::InvalidHttp)),
                }
            }
            let failure = match stream.read_more(&mut buf).await {
                Ok(0) => Failure::Connection,
                Ok(_) => {
                    received = true;
                    continue;
                }
                Err(error) => io_failure(&error),
            };
            return Err(if received {
                ExchangeError::Failed(failure)
            } else {
                ExchangeError::NothingReceived(failure)
            });
        };
        if !head.set_cookies.is_empty() {
            jar.store(&head.set_cookies, &request.url);
        }
        buf.drain(..head.len);
        let mut kept = request.inspect.map(Kept::new);
        let (bytes, clean_end) = read_body(&mut stream, buf, head.framing, kept.as_mut())
            .await
            .map_err(ExchangeError::Failed)?;
        if head.keep_alive && clean_end {
            stream.forget_readiness();
            self.idle = Some((stream, Instant::now()));
        }
        let (body, truncated) = kept.map(Kept::finish).unwrap_or_default();
        Ok(Response {
            status: head.status,
            bytes,
            headers: head.headers,
            body,
            truncated,
        })
    }
}

/// Reads the body after the head; `buf` holds what already arrived. Returns the body's
/// size and whether it ended exactly where the next response could begin. With `kept`,
/// the body's first bytes are kept for inspection.
async fn read_body(
    stream: &mut Stream,
    buf: Vec<u8>,
    framing: Framing,
    kept: Option<&mut Kept>,
) -> Result<(u64, bool), Failure> {
    match framing {
        Framing::Empty => Ok((0, buf.is_empty())),
        Framing::Length(length) => read_sized_body(stream, buf, length, keeper(kept)).await,
        Framing::UntilClose => read_body_until_close(stream, buf, keeper(kept)).await,
        Framing::Chunked => read_chunked_body(stream, buf, keeper(kept)).await,
    }
}

/// Takes a body's bytes as they arrive and gives them to `kept`, if any.
fn keeper(mut kept: Option<&mut Kept>) -> impl FnMut(&[u8]) {
    move |bytes| {
        if let Some(kept) = kept.as_deref_mut() {
            kept.push(bytes);
        }
    }
}

/// Reads a `Content-Length` body of `length` bytes, `buf` holding its start; gives
/// `length` and whether no byte came after it.
async fn read_sized_body(
    stream: &mut Stream,
    mut buf: Vec<u8>,
    length: u64,
    mut keep: impl FnMut(&[u8]),
) -> Result<(u64, bool), Failure> {
    let mut seen = buf.len() as u64;
    keep(&buf[..buf.len().min(length as usize)]);
    while seen < length {
        buf.clear();
        match stream.read_more(&mut buf).await {
            Ok(0) | Err(_) => return Err(Failure::Body),
            Ok(n) => {
                keep(&buf[..n.min((length - seen) as usize)]);
                seen += n as u64;
            }
        }
    }
    Ok((length, seen == length))
}

/// Reads a body that ends when the server closes the connection, `buf` holding its
/// start; gives its size, and `false`: the connection cannot carry another response.
async fn read_body_until_close(
    stream: &mut Stream,
    mut buf: Vec<u8>,
    mut keep: impl FnMut(&[u8]),
) -> Result<(u64, bool), Failure> {
    let mut seen = buf.len() as u64;
    keep(&buf);
    loop {
        buf.clear();
        match stream.read_more(&mut buf).await {
            Ok(0) => return Ok((seen, false)),
            Ok(n) => {
                keep(&buf);
                seen += n as u64;
            }
            Err(_) => return Err(Failure::Body),
        }
    }
}

/// Reads a chunked body, `buf` holding its start; gives its size without the framing
/// and whether no byte came after its last chunk.
async fn read_chunked_body(
    stream: &mut Stream,
    mut buf: Vec<u8>,
    mut keep: impl FnMut(&[u8]),
) -> Result<(u64, bool), Failure> {
    let mut body = ChunkedBody::new();
    loop {
        // Bad chunk framing is not HTTP; a body that merely stops short is `Body`.
        let used = body
            .feed(&buf, &mut keep)
            .map_err(|_| Failure::InvalidHttp)?;
        buf.drain(..used);
        if body.is_done() {
            return Ok((body.bytes, buf.is_empty()));
        }
        match stream.read_more(&mut buf).await {
            Ok(0) | Err(_) => return Err(Failure::Body),
            Ok(_) => {}
        }
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

fn io_failure(error: &io::Error) -> Failure {
    if let Some(why) = tls::tls_failure(error) {
        return Failure::Tls(why);
    }
    if let Some(limit) = LocalLimit::from_io(error) {
        return Failure::LocalResources(limit);
    }
    match error.kind() {
        io::ErrorKind::InvalidData => Failure::InvalidHttp,
        _ => Failure::Connection,
    }
}
