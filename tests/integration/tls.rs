//! HTTPS through the same HTTP/1.1 engine as HTTP: a real rustls server with a CA the test
//! generates, the plan's `tls` options (a private CA, no verification, mutual TLS, SNI),
//! why a handshake failed, per-user session resumption, and the bytes on the wire.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use http::header::HeaderMap;
use planrun::compile::TlsOptions;
use planrun::engine::{HttpTransport, OutgoingRequest, Session, TlsFailure, Transport};
use planrun::metrics::Failure;
use rustls::HandshakeKind;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::support::{self, run_on_own_host};
use crate::tls_support::{Pki, ca_block};

/// What the test server saw: each request's raw bytes, and each TLS handshake.
#[derive(Default)]
struct Seen {
    requests: Vec<Vec<u8>>,
    /// `Some(resumed)` per TLS connection that completed its handshake; `None` per one
    /// that failed.
    handshakes: Vec<Option<bool>>,
}

/// A server on one port that speaks TLS to a client that opens with a TLS handshake and
/// plain HTTP to one that does not, so both schemes reach the same `host:port`. It answers
/// every request `200 ok`, setting a cookie; with `close`, it closes after each answer.
struct TestServer {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

impl TestServer {
    async fn start(acceptor: TlsAcceptor, close: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handle(stream, acceptor.clone(), log.clone(), close));
            }
        });
        Self { port, seen }
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.requests
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }

    fn handshakes(&self) -> Vec<Option<bool>> {
        self.seen.lock().unwrap().handshakes.clone()
    }
}

async fn handle(stream: TcpStream, acceptor: TlsAcceptor, seen: Arc<Mutex<Seen>>, close: bool) {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await.is_err() {
        return;
    }
    // 0x16: a TLS record of the handshake type, as every ClientHello starts.
    if first[0] != 0x16 {
        return exchange(stream, seen, close).await;
    }
    match acceptor.accept(stream).await {
        Ok(tls) => {
            let resumed = tls.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed);
            seen.lock().unwrap().handshakes.push(Some(resumed));
            exchange(tls, seen, close).await;
        }
        Err(_) => seen.lock().unwrap().handshakes.push(None),
    }
}

/// Reads requests (head and `content-length` body) and answers each.
async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    seen: Arc<Mutex<Seen>>,
    close: bool,
) {
    let mut buf = Vec::new();
    while let Some((request, _)) = support::read_request(&mut stream, &mut buf).await {
        seen.lock().unwrap().requests.push(request);
        let connection = if close { "close" } else { "keep-alive" };
        let answer = format!(
            "HTTP/1.1 200 OK\r\nSet-Cookie: sid=s1; Path=/\r\nConnection: {connection}\r\nContent-Length: 2\r\n\r\nok"
        );
        if stream.write_all(answer.as_bytes()).await.is_err() || stream.flush().await.is_err() {
            return;
        }
        if close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// Two users for a second against `host`, with `tls` before the plan.
fn plan(host: &str, tls: &str) -> String {
    format!(
        "{tls}host: {host}\ntimeout: 2s\nclasses:\n  A:\n    think-time: constant 50ms\n    tasks:\n      \
         thing: {{ path: /api/v1/thing }}\nload: {{ users: 2, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1s }}\n"
    )
}

/// The run's requests and failures: (count, failures, categories and reasons).
fn tally(outcome: &planrun::Outcome) -> (u64, u64, Vec<(String, String)>) {
    let results = &outcome.results;
    let failures = results
        .failures
        .iter()
        .map(|f| (f.category.clone(), f.reason.clone()))
        .collect();
    (
        results.aggregate.count,
        results.aggregate.failures,
        failures,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_trusting_the_test_ca_runs_all_green_and_says_it_verified() {
    let pki = Pki::generate();
    let server = TestServer::start(pki.acceptor(false), false).await;
    let (outcome, _out) = run_on_own_host(&plan(&server.url("https"), &ca_block(&pki))).await;
    let (count, failures, reasons) = tally(&outcome);
    assert!(count >= 4, "{count} requests");
    assert_eq!((failures, reasons), (0, vec![]));
    let tls = outcome
        .results
        .tls
        .as_ref()
        .expect("an https run records its TLS");
    assert!(tls.verified);
    assert!(tls.ca_file.as_deref().unwrap().ends_with("ca.pem"));
    // Two users, one kept-alive connection each.
    assert_eq!(server.handshakes(), [Some(false), Some(false)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_ca_every_request_fails_as_tls_from_an_unknown_issuer() {
    let pki = Pki::generate();
    let server = TestServer::start(pki.acceptor(false), false).await;
    let (outcome, _out) = run_on_own_host(&plan(&server.url("https"), "")).await;
    let (count, failures, reasons) = tally(&outcome);
    assert!(count >= 4, "{count} requests");
    assert_eq!(failures, count);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    let (category, reason) = &reasons[0];
    assert_eq!(category, "tls");
    assert!(reason.contains("unknown issuer"), "{reason}");
    // Plain words: no library message, no Rust type name.
    assert!(
        !reason.contains("InvalidCertificate") && !reason.contains("UnknownIssuer"),
        "{reason}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_runs_and_every_report_says_verification_was_off() {
    let pki = Pki::generate();
    let server = TestServer::start(pki.acceptor(false), false).await;
    let text = plan(&server.url("https"), "tls:\n  insecure: true\n");
    let (outcome, _out) = run_on_own_host(&text).await;
    let (count, failures, _) = tally(&outcome);
    assert!(
        count >= 4 && failures == 0,
        "{count} requests, {failures} failed"
    );
    let dir = &outcome.report_dir;
    let tls = support::results(dir)
        .tls
        .expect("summary.json records the TLS settings");
    assert!(!tls.verified, "{tls:?}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("TLS verification was off"));
    let markdown = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(markdown.contains("TLS verification was off"), "{markdown}");
    let terminal = planrun::report::terminal::render(&outcome.results);
    assert!(terminal.contains("TLS verification was off"), "{terminal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_succeeds_with_the_client_certificate_and_fails_as_tls_without() {
    let pki = Pki::generate();
    let server = TestServer::start(pki.acceptor(true), false).await;
    let with_cert = format!(
        "{}  client-cert: {}\n  client-key: {}\n",
        ca_block(&pki),
        pki.path("client.pem").display(),
        pki.path("client-key.pem").display()
    );
    let (outcome, _out) = run_on_own_host(&plan(&server.url("https"), &with_cert)).await;
    let (count, failures, reasons) = tally(&outcome);
    assert!(count >= 4, "{count} requests");
    assert_eq!((failures, reasons), (0, vec![]));
    assert!(outcome.results.tls.as_ref().unwrap().client_certificate);

    let (outcome, _out) = run_on_own_host(&plan(&server.url("https"), &ca_block(&pki))).await;
    let (count, failures, reasons) = tally(&outcome);
    assert!(
        count >= 4 && failures == count,
        "{count} requests, {failures} failed"
    );
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert_eq!(reasons[0].0, "tls");
    assert!(
        reasons[0].1.contains("client certificate"),
        "{}",
        reasons[0].1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_plan_sends_the_same_bytes_over_http_and_https() {
    let pki = Pki::generate();
    let server = TestServer::start(pki.acceptor(false), false).await;
    let text = |scheme: &str| {
        format!(
            "{}host: {}\nheaders: {{ X-Plan: p1 }}\nclasses:\n  A:\n    think-time: constant 20ms\n    tasks:\n      \
             book:\n        method: POST\n        path: /api/v1/book?at=1\n        headers: {{ Cookie: pref=dark }}\n        \
             body: '{{\"guests\": 2}}'\nload: {{ users: 1, run-time: 500ms }}\n",
            ca_block(&pki),
            server.url(scheme)
        )
    };
    run_on_own_host(&text("http")).await;
    let plain = server.requests();
    server.seen.lock().unwrap().requests.clear();
    run_on_own_host(&text("https")).await;
    let tls = server.requests();
    assert!(plain.len() >= 2 && tls.len() >= 2, "{plain:?} {tls:?}");
    // The first request, and the second with the cookie the first answer set.
    assert_eq!(plain[..2], tls[..2]);
    assert!(plain[0].contains("user-agent: planrun/"), "{}", plain[0]);
    assert!(
        plain[1].contains("cookie: pref=dark; sid=s1\r\n"),
        "{}",
        plain[1]
    );
    assert_eq!(server.handshakes().len(), 1);
}

fn get(url: &str) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::GET,
        url: url.parse().unwrap(),
        headers: HeaderMap::new(),
        body: None,
        timeout: Duration::from_secs(2),
        inspect: None,
    }
}

fn trusting(pki: &Pki) -> TlsOptions {
    TlsOptions {
        extra_roots: vec![pki.ca_der()],
        ..TlsOptions::default()
    }
}

/// The first failure of one request to a server with `pki`'s certificate, trusting its CA.
async fn failure_with(pki: &Pki, options: TlsOptions) -> Result<u16, Failure> {
    let server = TestServer::start(pki.acceptor(false), false).await;
    let url = format!("{}/", server.url("https"));
    let transport = HttpTransport::with_tls(&url, options).unwrap();
    transport.session().send(get(&url)).await.map(|r| r.status)
}

#[tokio::test]
async fn handshake_failures_say_why() {
    let expired = Pki::with_server(|params| {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    assert_eq!(
        failure_with(&expired, trusting(&expired)).await,
        Err(Failure::Tls(TlsFailure::Expired))
    );
    // A certificate for `localhost` only, reached as 127.0.0.1.
    let named = Pki::with_server(|params| params.subject_alt_names.truncate(1));
    assert_eq!(
        failure_with(&named, trusting(&named)).await,
        Err(Failure::Tls(TlsFailure::NameMismatch))
    );
    // `server-name` sends and verifies the name the certificate is for.
    let by_name = TlsOptions {
        server_name: Some("localhost".try_into().unwrap()),
        ..trusting(&named)
    };
    assert_eq!(failure_with(&named, by_name).await, Ok(200));
    let reason = Failure::Tls(TlsFailure::NameMismatch).to_string();
    assert!(reason.contains("another name"), "{reason}");
}

#[tokio::test]
async fn each_user_resumes_its_own_sessions_only() {
    let pki = Pki::generate();
    // Closing after every answer: each request is a new connection and handshake.
    let server = TestServer::start(pki.acceptor(false), true).await;
    let url = format!("{}/", server.url("https"));
    let transport = HttpTransport::with_tls(&url, trusting(&pki)).unwrap();
    let (mut first, mut second) = (transport.session(), transport.session());
    for _ in 0..2 {
        assert_eq!(first.send(get(&url)).await.map(|r| r.status), Ok(200));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(second.send(get(&url)).await.map(|r| r.status), Ok(200));
    // The first user's second connection resumed; the second user's first did not.
    assert_eq!(server.handshakes(), [Some(false), Some(true), Some(false)]);
}
