//! The HTTP transport against scripted servers on 127.0.0.1, over TCP and over TLS:
//! keep-alive reuse, framing, cookies, and every way a response can go wrong ending as its
//! failure category, the same on both.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use http::header::HeaderMap;
use planrun::compile::TlsOptions;
use planrun::engine::{
    HttpSession, HttpTransport, OutgoingRequest, Session, TlsFailure, Transport,
};
use planrun::metrics::Failure;
use planrun::units::ByteSize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::support;
use crate::tls_support::Pki;

/// What the scripted server does with the n-th request (counted over all connections).
enum Reply {
    /// Write these bytes and keep the connection open for the next request.
    Keep(&'static str),
    /// Write these bytes, then close.
    Close(&'static str),
    /// Never answer.
    Hang,
}

struct Script {
    url: String,
    connections: Arc<Mutex<usize>>,
    requests: Arc<Mutex<Vec<String>>>,
    /// A transport that trusts the server (its CA, over TLS).
    transport: HttpTransport,
}

impl Script {
    /// A new user's session.
    fn session(&self) -> HttpSession {
        self.transport.session()
    }
}

/// The schemes every scripted exchange is tried over: `false` TCP, `true` TLS.
const OVER_TCP_AND_TLS: [bool; 2] = [false, true];

/// Serves `replies` in order, one per request head received, over TCP.
async fn serve(replies: Vec<Reply>) -> Script {
    serve_over(replies, false).await
}

/// `serve`, over TLS with `tls` (from a CA of its own, which `Script::transport` trusts).
async fn serve_over(replies: Vec<Reply>, tls: bool) -> Script {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scheme = if tls { "https" } else { "http" };
    let url = format!("{scheme}://{}", listener.local_addr().unwrap());
    let connections = Arc::new(Mutex::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let replies = Arc::new(Mutex::new(replies.into_iter()));
    let (conns, reqs) = (connections.clone(), requests.clone());
    let pki = tls.then(Pki::generate);
    let acceptor: Option<TlsAcceptor> = pki.as_ref().map(|pki| pki.acceptor(false));
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            *conns.lock().unwrap() += 1;
            let (replies, reqs) = (replies.clone(), reqs.clone());
            match acceptor.clone() {
                None => drop(tokio::spawn(answer(socket, replies, reqs))),
                Some(acceptor) => drop(tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(socket).await {
                        answer(tls, replies, reqs).await;
                    }
                })),
            }
        }
    });
    let options = TlsOptions {
        extra_roots: pki.iter().map(Pki::ca_der).collect(),
        ..TlsOptions::default()
    };
    Script {
        transport: HttpTransport::with_tls(&url, options).unwrap(),
        url,
        connections,
        requests,
    }
}

async fn answer(
    mut socket: impl AsyncRead + AsyncWrite + Unpin,
    replies: Arc<Mutex<std::vec::IntoIter<Reply>>>,
    requests: Arc<Mutex<Vec<String>>>,
) {
    let mut buf = Vec::new();
    while let Some((request, head)) = support::read_request(&mut socket, &mut buf).await {
        requests
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(&request[..head]).into_owned());
        let reply = replies.lock().unwrap().next();
        match reply {
            Some(Reply::Keep(bytes)) => {
                let _ = socket.write_all(bytes.as_bytes()).await;
                let _ = socket.flush().await;
            }
            Some(Reply::Close(bytes)) => {
                let _ = socket.write_all(bytes.as_bytes()).await;
                let _ = socket.flush().await;
                return;
            }
            Some(Reply::Hang) => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
            None => return,
        }
    }
}

fn get(url: &str) -> OutgoingRequest {
    request(Method::GET, url, None)
}

fn request(method: Method, url: &str, body: Option<&str>) -> OutgoingRequest {
    OutgoingRequest {
        method,
        url: url.parse().unwrap(),
        headers: HeaderMap::new(),
        body: body.map(str::to_owned),
        timeout: Duration::from_millis(500),
        inspect: None,
    }
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

#[tokio::test]
async fn one_user_reuses_one_connection() {
    for tls in OVER_TCP_AND_TLS {
        let server = serve_over((0..5).map(|_| Reply::Keep(OK)).collect(), tls).await;
        let mut session = server.session();
        for _ in 0..5 {
            let response = session.send(get(&format!("{}/x", server.url))).await;
            assert_eq!(response.map(|r| (r.status, r.bytes)), Ok((200, 5)));
        }
        assert_eq!(*server.connections.lock().unwrap(), 1);
        let requests = server.requests.lock().unwrap();
        assert!(
            requests[0].starts_with("GET /x HTTP/1.1\r\n"),
            "{}",
            requests[0]
        );
    }
}

#[tokio::test]
async fn users_do_not_share_connections_or_cookies() {
    for tls in OVER_TCP_AND_TLS {
        let set = "HTTP/1.1 200 OK\r\nSet-Cookie: sid=u1; Path=/\r\nContent-Length: 0\r\n\r\n";
        let server = serve_over(
            vec![Reply::Keep(set), Reply::Keep(OK), Reply::Keep(OK)],
            tls,
        )
        .await;
        let (mut first, mut second) = (server.session(), server.session());
        first
            .send(get(&format!("{}/login", server.url)))
            .await
            .unwrap();
        first
            .send(get(&format!("{}/me", server.url)))
            .await
            .unwrap();
        second
            .send(get(&format!("{}/me", server.url)))
            .await
            .unwrap();
        let requests = server.requests.lock().unwrap();
        assert!(
            requests[1].contains("cookie: sid=u1\r\n"),
            "{}",
            requests[1]
        );
        assert!(!requests[2].contains("cookie:"), "{}", requests[2]);
        assert_eq!(*server.connections.lock().unwrap(), 2);
    }
}

#[tokio::test]
async fn chunked_bodies_and_provisional_responses_are_framed() {
    for tls in OVER_TCP_AND_TLS {
        let chunked = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n\
                       Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n";
        let server = serve_over(vec![Reply::Keep(chunked), Reply::Keep(OK)], tls).await;
        let mut session = server.session();
        let url = format!("{}/p", server.url);
        let created = session.send(request(Method::POST, &url, Some("{}"))).await;
        assert_eq!(created.map(|r| (r.status, r.bytes)), Ok((201, 7)));
        // The chunked response ended exactly, so the connection carries the next request.
        assert_eq!(session.send(get(&url)).await.map(|r| r.bytes), Ok(5));
        assert_eq!(*server.connections.lock().unwrap(), 1);
    }
}

#[tokio::test]
async fn a_closed_connection_is_replaced() {
    for tls in OVER_TCP_AND_TLS {
        let close = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello";
        let server = serve_over(
            vec![
                Reply::Close(close),
                Reply::Keep(OK),
                Reply::Close(OK),
                Reply::Keep(OK),
            ],
            tls,
        )
        .await;
        let mut session = server.session();
        let url = format!("{}/", server.url);
        for _ in 0..4 {
            assert_eq!(session.send(get(&url)).await.map(|r| r.status), Ok(200));
            // Give the server's close time to reach the client before the next request.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(*server.connections.lock().unwrap(), 3);
    }
}

#[tokio::test]
async fn body_until_close_is_counted() {
    for tls in OVER_TCP_AND_TLS {
        let server = serve_over(vec![Reply::Close("HTTP/1.0 200 OK\r\n\r\n0123456789")], tls).await;
        let mut session = server.session();
        let response = session.send(get(&server.url)).await;
        assert_eq!(response.map(|r| r.bytes), Ok(10));
    }
}

/// How a request to a server that answers `reply` fails, the same over TCP and TLS.
async fn failure_of(reply: Reply) -> Failure {
    let mut failures = Vec::new();
    for tls in OVER_TCP_AND_TLS {
        let reply = match &reply {
            Reply::Keep(bytes) => Reply::Keep(bytes),
            Reply::Close(bytes) => Reply::Close(bytes),
            Reply::Hang => Reply::Hang,
        };
        let server = serve_over(vec![reply], tls).await;
        let mut session = server.session();
        failures.push(session.send(get(&server.url)).await.unwrap_err());
    }
    assert_eq!(failures[0], failures[1], "over TCP, then over TLS");
    failures.remove(0)
}

#[tokio::test]
async fn broken_responses_fail_with_their_category() {
    assert_eq!(
        failure_of(Reply::Close(
            "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"
        ))
        .await,
        Failure::Body
    );
    assert_eq!(
        failure_of(Reply::Close(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"
        ))
        .await,
        Failure::Body
    );
    assert_eq!(
        failure_of(Reply::Close("garbage\r\n\r\n")).await,
        Failure::InvalidHttp
    );
    assert_eq!(
        failure_of(Reply::Close("HTTP/1.1 200 O")).await,
        Failure::Connection
    );
    assert_eq!(failure_of(Reply::Close("")).await, Failure::Connection);
    assert_eq!(failure_of(Reply::Hang).await, Failure::Timeout);
}

#[tokio::test]
async fn unreachable_hosts_fail_with_their_category() {
    // A port that was just bound and released refuses connections.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut session = HttpTransport::default().session();
    let refused = session
        .send(get(&format!("http://127.0.0.1:{port}/")))
        .await;
    assert_eq!(refused.unwrap_err(), Failure::Connect);
    let unknown = session.send(get("http://no-such-host.invalid/")).await;
    assert_eq!(unknown.unwrap_err(), Failure::Dns);
}

#[tokio::test]
async fn a_server_that_is_not_tls_fails_the_handshake() {
    // A plain-HTTP server answers the ClientHello with an HTTP error, as nginx does.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let transport = HttpTransport::for_host(&url).expect("system root certificates");
    let failure = transport.session().send(get(&url)).await.unwrap_err();
    assert_eq!(failure, Failure::Tls(TlsFailure::Protocol));
}

#[tokio::test]
async fn inspected_responses_keep_headers_and_body() {
    for tls in OVER_TCP_AND_TLS {
        let chunked = "HTTP/1.1 200 OK\r\nX-Request-Id: r-1\r\nTransfer-Encoding: chunked\r\n\r\n\
                       5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n";
        let server = serve_over(
            vec![Reply::Keep(chunked), Reply::Keep(OK), Reply::Keep(OK)],
            tls,
        )
        .await;
        let mut session = server.session();
        let mut inspected = get(&server.url);
        inspected.inspect = Some(ByteSize::mib(1));
        let response = session.send(inspected.clone()).await.unwrap();
        assert_eq!(response.body, br#"{"a":1}"#);
        assert_eq!(response.headers["x-request-id"], "r-1");
        let response = session.send(inspected).await.unwrap();
        assert_eq!(
            (response.bytes, response.body.as_slice()),
            (5, b"hello".as_slice())
        );
        // Without `inspect`, nothing is kept.
        let plain = session.send(get(&server.url)).await.unwrap();
        assert!(plain.body.is_empty() && plain.headers.is_empty());
    }
}

/// A 200 carrying `body`, framed by `Content-Length` (`length`), in two chunks
/// (`chunked`), or by closing the connection (anything else).
fn big_reply(framing: &str, body: &str) -> &'static str {
    let text = match framing {
        "length" => format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
        "chunked" => {
            let (a, b) = body.split_at(body.len() / 3);
            format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                 {:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                a.len(),
                b.len()
            )
        }
        _ => format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{body}"),
    };
    Box::leak(text.into_boxed_str())
}

#[tokio::test]
async fn an_inspected_body_over_max_body_keeps_its_start_and_counts_the_rest() {
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(10_000));
    let cap = ByteSize::kib(4);
    for (tls, framing) in OVER_TCP_AND_TLS
        .into_iter()
        .flat_map(|tls| ["length", "chunked", "until-close"].map(|f| (tls, f)))
    {
        let reply = big_reply(framing, &body);
        let replies = if framing == "until-close" {
            vec![Reply::Close(reply)]
        } else {
            vec![Reply::Keep(reply), Reply::Keep(OK)]
        };
        let server = serve_over(replies, tls).await;
        let mut session = server.session();
        let mut request = get(&server.url);
        request.inspect = Some(cap);
        let response = session.send(request.clone()).await.unwrap();
        assert_eq!(response.bytes, body.len() as u64, "{framing}");
        assert_eq!(response.body, body.as_bytes()[..4096], "{framing}");
        assert!(response.truncated, "{framing}");
        if framing != "until-close" {
            // Read to its end, the oversized body leaves the connection reusable.
            let next = session.send(request).await.unwrap();
            assert_eq!(
                (next.body.as_slice(), next.truncated),
                (b"hello".as_slice(), false)
            );
            assert_eq!(*server.connections.lock().unwrap(), 1, "{framing}");
        }
    }
    // Within the cap, nothing is cut.
    let server = serve(vec![Reply::Keep(big_reply("length", &body))]).await;
    let mut request = get(&server.url);
    request.inspect = Some(ByteSize::kib(16));
    let response = server.session().send(request).await.unwrap();
    assert_eq!(
        (response.body.len(), response.truncated),
        (body.len(), false)
    );
}
