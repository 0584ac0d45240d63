//! `HostileServer`: a TCP server on 127.0.0.1 that misbehaves in one chosen way, for
//! checking that every fault a target can commit ends up counted in the results.
//!
//! It runs on its own small tokio runtime, so a test can drive the `planrun` binary from
//! its own thread; dropping the server stops it and closes every connection it holds.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
    // Dropped last: shutting the runtime down ends the accept loop and every connection.
    runtime: Option<tokio::runtime::Runtime>,
}

impl HostileServer {
    pub fn start(fault: Fault) -> Self {
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
            runtime.spawn(accept_loop(listener, fault));
        }
        Self {
            addr,
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

async fn accept_loop(listener: TcpListener, fault: Fault) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(async move {
            // A client that hangs up mid-way is the client's business, not the test's.
            let _ = serve(stream, fault).await;
        });
    }
}

async fn serve(mut stream: TcpStream, fault: Fault) -> std::io::Result<()> {
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
                stream.set_zero_linger()?;
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
                }
            }
            Fault::TrickleBody => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    .await?;
                loop {
                    stream.write_all(b"x").await?;
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
            }
            Fault::InvalidHttp => {
                stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await?;
                return Ok(());
            }
        }
    }
}

/// Reads until the end of a request head (requests in these tests have no body).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<()> {
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
