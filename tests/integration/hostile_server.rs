//! `HostileServer`: a server on 127.0.0.1, over TCP or TLS, that misbehaves in one chosen
//! way, for checking that every fault a target can commit ends up counted in the results,
//! the same on `http://` and `https://`.
//!
//! It runs on its own small tokio runtime, so a test can drive the `planrun` binary from
//! its own thread; dropping the server stops it and closes every connection it holds.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::tls_support::{Pki, ca_block};

/// How the server misbehaves, after reading each request's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing listens on the port: connections are refused.
    Refuse,
    /// Reads the request and closes the connection without a byte of answer.
    CloseWithoutAnswer,
    /// Half a status line, then a TCP reset.
    ResetMidHead,
    /// A complete head announcing 1,000 bytes, 10 of them, then a close.
    TruncatedBody,
    /// Accepts, reads the request, never answers.
    Silent,
    /// A status line, then one header line every 200 ms, forever.
    SlowHeaders,
    /// A head announcing 100,000 bytes, then one byte every 50 ms.
    TrickleBody,
    /// A valid 200 with a body of `OVERSIZED_BYTES`, sent as fast as it goes.
    OversizedBody,
    /// A valid 200 with a JSON object of `LARGE_JSON_BYTES`: `{"id":42,"pad":"xx…"}`.
    LargeJson,
    /// Answers with something that is not HTTP.
    InvalidHttp,
    /// Plain text to a TLS client's handshake.
    NotTls,
}

/// The body size of `Fault::OversizedBody`: far more than any API answer.
pub const OVERSIZED_BYTES: u64 = 16 << 20;

/// The body size of `Fault::LargeJson`: between 64 KiB and 128 KiB.
pub const LARGE_JSON_BYTES: usize = 100_000;

pub struct HostileServer {
    pub addr: SocketAddr,
    /// The certificates of a TLS server (its CA is what a plan trusts); `None` over TCP.
    pub pki: Option<Pki>,
    // Dropped last: shutting the runtime down ends the accept loop and every connection.
    runtime: Option<tokio::runtime::Runtime>,
}

impl HostileServer {
    /// A plain-TCP server (`http://`).
    pub fn start(fault: Fault) -> Self {
        Self::start_on(fault, None)
    }

    /// The same server behind TLS (`https://`), with a certificate from a CA of its own.
    pub fn start_tls(fault: Fault) -> Self {
        Self::start_on(fault, Some(Pki::generate()))
    }

    /// `start` with `tls` false, `start_tls` with it true.
    pub fn start_over(fault: Fault, tls: bool) -> Self {
        if tls {
            Self::start_tls(fault)
        } else {
            Self::start(fault)
        }
    }

    /// The server's base URL, `http://` or `https://`.
    pub fn url(&self) -> String {
        let scheme = if self.pki.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The plan's `tls:` block that trusts the server's CA; empty over TCP.
    pub fn plan_tls(&self) -> String {
        self.pki.as_ref().map(ca_block).unwrap_or_default()
    }

    fn start_on(fault: Fault, pki: Option<Pki>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        if fault == Fault::Refuse {
            // The port was free a moment ago and is closed now: connecting is refused.
            drop(listener);
        } else {
            let acceptor = pki.as_ref().map(|pki| pki.acceptor(false));
            runtime.spawn(accept_loop(listener, fault, acceptor));
        }
        Self {
            addr,
            pki,
            runtime: Some(runtime),
        }
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn accept_loop(listener: TcpListener, fault: Fault, tls: Option<TlsAcceptor>) {
    while let Ok((stream, _)) = listener.accept().await {
        let tls = tls.clone();
        tokio::spawn(async move {
            // A client that hangs up mid-way is the client's business, not the test's.
            match tls {
                None => {
                    let _ = serve(stream, fault).await;
                }
                Some(acceptor) if fault != Fault::NotTls => {
                    if let Ok(mut stream) = acceptor.accept(stream).await {
                        let _ = serve(&mut stream, fault).await;
                        let _ = stream.flush().await;
                    }
                }
                Some(_) => {
                    let _ = serve(stream, fault).await;
                }
            }
        });
    }
}

/// A connection to serve: TCP, or TLS over it.
trait Socket: AsyncRead + AsyncWrite + Unpin {
    fn tcp(&self) -> &TcpStream;
}

impl Socket for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Socket for &mut tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

async fn serve(mut stream: impl Socket, fault: Fault) -> std::io::Result<()> {
    if fault == Fault::NotTls {
        let mut hello = [0u8; 512];
        let _ = stream.read(&mut hello).await?;
        stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return Ok(());
    }
    loop {
        read_head(&mut stream).await?;
        match fault {
            Fault::Refuse | Fault::NotTls => unreachable!("handled above"),
            Fault::CloseWithoutAnswer => return Ok(()),
            Fault::ResetMidHead => {
                stream.write_all(b"HTTP/1.1 200 O").await?;
                stream.flush().await?;
                // SO_LINGER 0: closing sends a reset instead of a clean FIN.
                stream.tcp().set_zero_linger()?;
                return Ok(());
            }
            Fault::TruncatedBody => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
                    .await?;
                return Ok(());
            }
            Fault::Silent => {
                std::future::pending::<()>().await;
            }
            Fault::SlowHeaders => {
                stream.write_all(b"HTTP/1.1 200 OK\r\n").await?;
                for i in 0.. {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    stream
                        .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                        .await?;
                    stream.flush().await?;
                }
            }
            Fault::TrickleBody => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    .await?;
                loop {
                    stream.write_all(b"x").await?;
                    stream.flush().await?;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Fault::OversizedBody => {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {OVERSIZED_BYTES}\r\n\r\n");
                stream.write_all(head.as_bytes()).await?;
                let chunk = vec![b'x'; 64 * 1024];
                let mut left = OVERSIZED_BYTES;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    stream.write_all(&chunk[..n]).await?;
                    left -= n as u64;
                }
                // Over TLS, the last records may wait in rustls until flushed.
                stream.flush().await?;
            }
            Fault::LargeJson => {
                let start = r#"{"id":42,"pad":""#;
                let pad = "x".repeat(LARGE_JSON_BYTES - start.len() - 2);
                let body = format!("{start}{pad}\"}}");
                assert_eq!(body.len(), LARGE_JSON_BYTES);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(body.as_bytes()).await?;
                stream.flush().await?;
            }
            Fault::InvalidHttp => {
                stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await?;
                return Ok(());
            }
        }
    }
}

/// Reads until the end of a request head (requests in these tests have no body).
async fn read_head(stream: &mut impl Socket) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut byte).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&byte[..n]);
    }
    Ok(())
}
