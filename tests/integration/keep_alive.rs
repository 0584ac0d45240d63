//! Keep-alive races: a server whose idle timeout equals the users' think time (uvicorn's
//! default 5 s against `think-time: constant 5s`, here scaled to 1 s) closes a connection
//! just as a user sends its next request on it. A browser never sends on a connection
//! idle that long; planrun replaces it after `connection-idle`, and counts any race that
//! remains as `connection`, saying so.

use std::time::Duration;

use planrun::RunOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::support::{options, run, write_plan};

/// The server's idle timeout, and the users' think time.
const IDLE: Duration = Duration::from_secs(1);
/// How long a request takes to cross the network, as the server sees it: a request that
/// arrives later than `IDLE - IN_FLIGHT` after the last response crossed the server's
/// close on the wire, and the close wins (`IN_FLIGHT` later, with the request unread).
const IN_FLIGHT: Duration = Duration::from_millis(100);

/// An HTTP/1.1 server with a keep-alive idle timeout of `IDLE`; its port.
async fn server_closing_idle_connections() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    port
}

async fn serve(mut stream: TcpStream) {
    let mut answered: Option<Instant> = None;
    loop {
        let close_at = answered.map(|at| at + IDLE + IN_FLIGHT);
        let request = match close_at {
            Some(close_at) => {
                match tokio::time::timeout_at(close_at, read_request(&mut stream)).await {
                    Ok(Some(())) => Instant::now(),
                    _ => return,
                }
            }
            None => match read_request(&mut stream).await {
                Some(()) => Instant::now(),
                None => return,
            },
        };
        if let (Some(at), Some(close_at)) = (answered, close_at) {
            if request > at + IDLE - IN_FLIGHT {
                // The request crossed the close: the server never saw it in time.
                tokio::time::sleep_until(close_at).await;
                return;
            }
        }
        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        if stream.write_all(reply).await.is_err() {
            return;
        }
        answered = Some(Instant::now());
    }
}

/// Reads one request (head and `content-length` body); `None` at end of stream.
async fn read_request(stream: &mut TcpStream) -> Option<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if buf.len() >= end + 4 + length {
                return Some(());
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn plan(port: u16, idle: &str) -> String {
    format!(
        r#"host: http://127.0.0.1:{port}
{idle}
classes:
  A:
    think-time: constant 1s
    tasks:
      post: {{ method: POST, path: /bookings, body: '{{"n": 1}}' }}
load: {{ users: 3, spawn-rate: 100/s, run-time: 2500ms, graceful-stop: 2s }}
"#
    )
}

async fn run_against(plan_text: &str) -> planrun::Outcome {
    let file = write_plan("keep-alive.yaml", plan_text);
    let out = tempfile::tempdir().unwrap();
    run(RunOptions {
        sample_api: None,
        preflight: false,
        ..options(file.path.clone(), out.path().to_path_buf())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_idle_past_the_limit_are_replaced_before_use() {
    let port = server_closing_idle_connections().await;
    let outcome = run_against(&plan(port, "connection-idle: 500ms")).await;
    let results = &outcome.results;
    // Each user sends at 0 s, 1 s and 2 s, each time after a second's think.
    assert!(results.aggregate.count >= 6, "{:?}", results.aggregate);
    assert_eq!(results.aggregate.failures, 0, "{:#?}", results.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_that_remains_is_a_connection_failure_that_says_so() {
    let port = server_closing_idle_connections().await;
    // The default limit is above this server's 1 s: the race is left to happen.
    let outcome = run_against(&plan(port, "")).await;
    let results = &outcome.results;
    assert!(results.aggregate.failures > 0, "{:?}", results.aggregate);
    for failure in &results.failures {
        assert_eq!(failure.category, "connection", "{failure:?}");
        assert_eq!(
            failure.reason,
            "the server closed an idle keep-alive connection as the request was sent"
        );
    }
}
