//! `Http1Connection`: one virtual user's plain-HTTP keep-alive connection.
//!
//! A user sends one request at a time, so its own task drives the socket directly: no
//! connection task, no channel between them, and no buffer kept while the user thinks.
//! An idle user costs its socket and little else; hyper's pooled client costs ~19 KB per
//! idle connection (a dispatch-channel block and two 8 KB buffers), which is what kept
//! 10,000 users above 200 MB. httparse parses; `wire` and `ChunkedBody` apply the framing.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::{Method, Url};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::chunked::ChunkedBody;
use super::wire::{self, Framing, MAX_HEAD_BYTES};
use super::{Kept, OutgoingRequest, Response};
use crate::engine::{Failure, LocalLimit};

/// Bytes asked of the socket per read.
/// The most asked of the socket per read, once a response proves large.
const READ_CHUNK: usize = 8 * 1024;
/// The first read's buffer: an API answer usually fits. Small matters after a stall,
/// when every user's request is in flight at once and the allocator keeps that
/// high-water mark: with 8 KiB here, two 4 s stalls of a 1,000-user soak left 6.3 MB
/// behind; with 1 KiB, 1.2 MB (docs/robustness.md, "Long runs").
const FIRST_READ: usize = 1024;

#[derive(Debug, Default)]
pub(super) struct Http1Connection {
    /// The kept-alive socket between requests, and since when it has been idle; `None`
    /// until the first one or after a close.
    idle: Option<(TcpStream, Instant)>,
    /// A socket idle this long is closed rather than reused (`connection-idle`).
    idle_limit: Option<Duration>,
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
        }
    }

    pub(crate) async fn send(
        &mut self,
        request: &OutgoingRequest,
        jar: &Jar,
    ) -> Result<Response, Failure> {
        let cookie = jar.cookies(&request.url);
        let cookie = cookie.as_ref().and_then(|value| value.to_str().ok());
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
        let stream = connect(&request.url).await?;
        self.exchange(stream, &bytes, request, jar)
            .await
            .map_err(|(ExchangeError::NothingReceived(f) | ExchangeError::Failed(f))| f)
    }

    /// The idle socket, if the server has not closed it meanwhile. tokio records readiness
    /// as events arrive, so this costs no system call while the socket is quiet.
    fn take_live(&mut self) -> Option<TcpStream> {
        let (stream, since) = self.idle.take()?;
        if self
            .idle_limit
            .is_some_and(|limit| since.elapsed() >= limit)
        {
            // The server may be closing it right now: close it first, as a browser does.
            return None;
        }
        match stream.try_read(&mut [0u8; 1]) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Some(stream),
            // EOF, an error, or bytes nobody asked for: not a connection to reuse.
            _ => None,
        }
    }

    /// Writes the request, reads the whole response; keeps the socket if it may be reused.
    async fn exchange(
        &mut self,
        mut stream: TcpStream,
        request_bytes: &[u8],
        request: &OutgoingRequest,
        jar: &Jar,
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
            let failure = match read_more(&mut stream, &mut buf).await {
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
            jar.set_cookies(&mut head.set_cookies.iter(), &request.url);
        }
        buf.drain(..head.len);
        let mut kept = request.inspect.map(Kept::new);
        let (bytes, clean_end) = read_body(&mut stream, buf, head.framing, kept.as_mut())
            .await
            .map_err(ExchangeError::Failed)?;
        if head.keep_alive && clean_end {
            forget_readiness(&stream);
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
    stream: &mut TcpStream,
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
    stream: &mut TcpStream,
    mut buf: Vec<u8>,
    length: u64,
    mut keep: impl FnMut(&[u8]),
) -> Result<(u64, bool), Failure> {
    let mut seen = buf.len() as u64;
    keep(&buf[..buf.len().min(length as usize)]);
    while seen < length {
        buf.clear();
        match read_more(stream, &mut buf).await {
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
    stream: &mut TcpStream,
    mut buf: Vec<u8>,
    mut keep: impl FnMut(&[u8]),
) -> Result<(u64, bool), Failure> {
    let mut seen = buf.len() as u64;
    keep(&buf);
    loop {
        buf.clear();
        match read_more(stream, &mut buf).await {
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
    stream: &mut TcpStream,
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
        match read_more(stream, &mut buf).await {
            Ok(0) | Err(_) => return Err(Failure::Body),
            Ok(_) => {}
        }
    }
}

/// Appends what the socket has into the buffer's spare room; `Ok(0)` at end of stream.
/// Waits for readiness before growing the buffer: after a stall of the target every
/// user's request is in flight at once, and buffers taken before the wait would all be
/// live together, a high-water mark the allocator keeps (docs/robustness.md, "Long runs").
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.len() > MAX_HEAD_BYTES + READ_CHUNK {
        // Only a head or a chunk line accumulates; the parsers reject what is this long.
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "response line too long",
        ));
    }
    // A socket that always has data (a fast endless body) would never make this task
    // wait, so the grace period's hard stop, which needs the task to be polled again,
    // could not cut it: each read spends from tokio's cooperative budget, and an
    // exhausted budget yields.
    tokio::task::consume_budget().await;
    loop {
        stream.readable().await?;
        // Grow by doubling, from `FIRST_READ` up to `READ_CHUNK` at a time.
        if buf.capacity() - buf.len() < FIRST_READ / 4 {
            buf.reserve(buf.capacity().clamp(FIRST_READ, READ_CHUNK));
        }
        match stream.try_read_buf(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            read => return read,
        }
    }
}

/// Tells tokio the socket has nothing more to read, without asking the kernel.
///
/// tokio forgets a socket's readiness only when a read fails with `WouldBlock`. A response
/// read to its exact end leaves the socket marked readable, so the next request would pay
/// a read that fails (in `take_live`) before waiting: a third system call per request
/// beside the write and the read. Here the socket is known to be drained: the server
/// sent the whole response and sends nothing unasked. Anything that arrives later (the
/// server closing the idle connection) is a new readiness event, which `take_live` sees.
fn forget_readiness(stream: &TcpStream) {
    let _ = stream.try_io(tokio::io::Interest::READABLE, || {
        Err::<(), _>(io::ErrorKind::WouldBlock.into())
    });
}

async fn connect(url: &Url) -> Result<TcpStream, Failure> {
    let host = url.host_str().ok_or(Failure::Dns)?;
    let port = url.port_or_known_default().unwrap_or(80);
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = match literal.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| Failure::Dns)?
            .collect(),
    };
    let mut failure = Failure::Dns;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                // Requests are small and written at once: never wait for Nagle.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            // planrun's own limit, not the target refusing: the next address would
            // fail the same way, except for a port shortage on one address family.
            Err(error) => match LocalLimit::from_io(&error) {
                Some(LocalLimit::EphemeralPorts) => {
                    failure = Failure::LocalResources(LocalLimit::EphemeralPorts);
                }
                Some(limit) => return Err(Failure::LocalResources(limit)),
                None => failure = Failure::Connect,
            },
        }
    }
    Err(failure)
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

fn io_failure(error: &io::Error) -> Failure {
    if let Some(limit) = LocalLimit::from_io(error) {
        return Failure::LocalResources(limit);
    }
    match error.kind() {
        io::ErrorKind::InvalidData => Failure::InvalidHttp,
        _ => Failure::Connection,
    }
}
