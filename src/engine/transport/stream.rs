//! `Stream`: a user's connection to the target, plain TCP or TLS over it. The HTTP/1.1
//! client (`http1`) frames, writes, reads and classifies the same way over either; only
//! connecting, the bytes' way through rustls and the idle check differ here.

use std::io;
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use url::Url;

use super::tls;
use super::wire::MAX_HEAD_BYTES;
use crate::engine::{Failure, LocalLimit};

/// The most asked of the socket per read, once a response proves large.
const READ_CHUNK: usize = 8 * 1024;
/// The first read's buffer: an API answer usually fits. Small matters after a stall,
/// when every user's request is in flight at once and the allocator keeps that
/// high-water mark (docs/robustness.md, "Long runs", has the measurements).
const FIRST_READ: usize = 1024;

/// One connection to the target.
#[derive(Debug)]
pub(super) enum Stream {
    Plain(TcpStream),
    /// Boxed: rustls's connection state is kilobytes, and most runs are plain.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// Connects to the URL's host; over TLS when `tls` gives the user's configuration.
    pub(crate) async fn connect(
        url: &Url,
        tls: Option<(&Arc<rustls::ClientConfig>, &tls::TlsConfig)>,
    ) -> Result<Self, Failure> {
        let tcp = connect_tcp(url).await?;
        match tls {
            None => Ok(Stream::Plain(tcp)),
            Some((user, shared)) => {
                let name = shared.server_name(url)?;
                // Boxed: the handshake's state (a whole rustls connection) would otherwise
                // be part of every user's task, `http://` ones included, for its whole life.
                let stream = Box::pin(tls::handshake(Arc::clone(user), name, tcp)).await?;
                Ok(Stream::Tls(Box::new(stream)))
            }
        }
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.get_ref().0,
        }
    }

    /// Writes the whole request (through rustls, and out of it, over TLS).
    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.write_all(bytes).await,
            Stream::Tls(tls) => {
                tls.write_all(bytes).await?;
                tls.flush().await
            }
        }
    }

    /// Whether an idle connection may carry another request: nothing arrived on it since
    /// (no close, no reset, no bytes nobody asked for). tokio records readiness as events
    /// arrive, so this costs no system call while the socket is quiet.
    pub(crate) fn is_live(&self) -> bool {
        match self {
            Stream::Plain(tcp) => match tcp.try_read(&mut [0u8; 1]) {
                Err(e) => e.kind() == io::ErrorKind::WouldBlock,
                // EOF, or bytes nobody asked for: not a connection to reuse.
                Ok(_) => false,
            },
            // Peeked, not read: a byte taken from under rustls would break its records.
            Stream::Tls(tls) => {
                let mut byte = [0u8; 1];
                let mut peeked = ReadBuf::new(&mut byte);
                let mut cx = Context::from_waker(Waker::noop());
                tls.get_ref().0.poll_peek(&mut cx, &mut peeked).is_pending()
            }
        }
    }

    /// Appends what the connection has into the buffer's spare room; `Ok(0)` at its end.
    /// Waits for data before growing the buffer: after a stall of the target every
    /// user's request is in flight at once, and buffers taken before the wait would all be
    /// live together, a high-water mark the allocator keeps (docs/robustness.md, "Long runs").
    pub(crate) async fn read_more(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
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
        match self {
            Stream::Plain(tcp) => read_plain(tcp, buf).await,
            Stream::Tls(tls) => read_tls(tls, buf).await,
        }
    }

    /// Tells tokio the socket has nothing more to read, without asking the kernel.
    ///
    /// tokio forgets a socket's readiness only when a read fails with `WouldBlock`. A
    /// response read to its exact end leaves the socket marked readable, so the next
    /// request would pay a read that fails (in `is_live`) before waiting: a third system
    /// call per request beside the write and the read. Here the socket is known to be
    /// drained: the server sent the whole response and sends nothing unasked. Anything
    /// that arrives later (the server closing the idle connection) is a new readiness
    /// event, which `is_live` sees.
    pub(crate) fn forget_readiness(&self) {
        let _ = self.tcp().try_io(tokio::io::Interest::READABLE, || {
            Err::<(), _>(io::ErrorKind::WouldBlock.into())
        });
    }
}

async fn read_plain(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
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

/// Reads decrypted bytes into a chunk on the stack, copied to `buf` only once they came:
/// rustls may have them buffered already, so readiness of the socket cannot say when.
async fn read_tls(stream: &mut TlsStream<TcpStream>, buf: &mut Vec<u8>) -> io::Result<usize> {
    let read = std::future::poll_fn(|cx| {
        let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut chunk = ReadBuf::uninit(&mut chunk);
        match Pin::new(&mut *stream).poll_read(cx, &mut chunk) {
            Poll::Ready(Ok(())) => {
                buf.extend_from_slice(chunk.filled());
                Poll::Ready(Ok(chunk.filled().len()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    match read {
        // A server that closes without TLS's close_notify ends the stream as a plain one
        // closing would: the framing, not the alert, says whether the response was whole.
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
        read => read,
    }
}

async fn connect_tcp(url: &Url) -> Result<TcpStream, Failure> {
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
