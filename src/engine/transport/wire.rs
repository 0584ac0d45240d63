//! HTTP/1.1 on the wire: the request head planrun writes, and where a response's head and
//! body end. httparse does the parsing; this file only applies RFC 9112's framing rules.

use std::io::Write as _;
use std::mem::MaybeUninit;

use http::Method;
use http::header::{
    CONNECTION, CONTENT_LENGTH, COOKIE, HOST, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};

use super::OutgoingRequest;

/// Response heads larger than this are not HTTP a backend would send.
pub(super) const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 96;
const DEFAULT_USER_AGENT: &str = concat!("planrun/", env!("CARGO_PKG_VERSION"));

/// Appends the request's head and body to `out`. `cookie` comes from the user's jar and
/// joins any `Cookie` header the plan sets.
pub(super) fn write_request(out: &mut Vec<u8>, request: &OutgoingRequest, cookie: Option<&str>) {
    let url = &request.url;
    out.extend_from_slice(request.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(url.path().as_bytes());
    if let Some(query) = url.query() {
        out.push(b'?');
        out.extend_from_slice(query.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");

    let headers = &request.headers;
    if !headers.contains_key(HOST) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(url.host_str().unwrap_or_default().as_bytes());
        if let Some(port) = url.port() {
            let _ = write!(out, ":{port}"); // writing to a Vec cannot fail
        }
        out.extend_from_slice(b"\r\n");
    }
    if !headers.contains_key(USER_AGENT) {
        header(out, USER_AGENT.as_str(), DEFAULT_USER_AGENT.as_bytes());
    }
    let mut plan_cookie = None;
    for (name, value) in headers {
        // planrun frames the body itself; a Cookie header merges with the jar's below.
        if name == CONTENT_LENGTH {
            continue;
        }
        if name == COOKIE {
            plan_cookie = Some(value);
            continue;
        }
        header(out, name.as_str(), value.as_bytes());
    }
    match (plan_cookie, cookie) {
        (Some(plan), Some(jar)) => {
            let joined = [plan.as_bytes(), b"; ", jar.as_bytes()].concat();
            header(out, COOKIE.as_str(), &joined);
        }
        (Some(plan), None) => header(out, COOKIE.as_str(), plan.as_bytes()),
        (None, Some(jar)) => header(out, COOKIE.as_str(), jar.as_bytes()),
        (None, None) => {}
    }
    let body = request.body.as_deref().unwrap_or_default();
    if request.body.is_some() || matches!(request.method, Method::POST | Method::PUT) {
        let _ = write!(out, "{CONTENT_LENGTH}: {}\r\n", body.len());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
}

fn header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body: HEAD, 204, 304, or `Content-Length: 0`.
    Empty,
    Length(u64),
    Chunked,
    /// HTTP/1.0 style: the body ends when the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Head {
    pub(crate) status: u16,
    /// Bytes of the buffer the head took.
    pub(crate) len: usize,
    pub(crate) framing: Framing,
    /// The connection may carry another request after this response.
    pub(crate) keep_alive: bool,
    pub(crate) set_cookies: Vec<HeaderValue>,
    /// Every header, when the caller asked to keep them.
    pub(crate) headers: HeaderMap,
}

impl Head {
    /// `1xx` other than `101`: a provisional response; the real one follows.
    pub(crate) fn is_informational(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }
}

/// Why a response head is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InvalidHead(pub(crate) String);

/// Parses a response head from the start of `buf`; `Ok(None)` means more bytes are needed.
pub(super) fn parse_head(
    buf: &[u8],
    method: &Method,
    keep_headers: bool,
) -> Result<Option<Head>, InvalidHead> {
    // Uninitialised slots: zeroing 96 of them (3 KB) cost more than parsing a small head.
    let mut slots = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut slots,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD_BYTES => {
            return Err(InvalidHead(format!(
                "head larger than {MAX_HEAD_BYTES} bytes"
            )));
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(InvalidHead(error.to_string())),
    };
    let status = response.code.unwrap_or_default();
    let http11 = response.version == Some(1);
    let fields = HeadFields::read(response.headers, http11, keep_headers)?;
    let framing = fields.framing(method, status);
    Ok(Some(Head {
        status,
        len,
        framing,
        keep_alive: !fields.close && framing != Framing::UntilClose && status != 101,
        set_cookies: fields.set_cookies,
        headers: fields.headers,
    }))
}

/// What a response's header lines say about its framing, its connection and its cookies.
struct HeadFields {
    length: Option<u64>,
    chunked: bool,
    /// The server will close the connection after this response.
    close: bool,
    set_cookies: Vec<HeaderValue>,
    /// Every header, when the caller asked to keep them.
    headers: HeaderMap,
}

impl HeadFields {
    /// Reads the header lines of an HTTP/1.1 (`http11`) or 1.0 response; keeps every
    /// header only with `keep_headers`.
    fn read(
        lines: &[httparse::Header],
        http11: bool,
        keep_headers: bool,
    ) -> Result<Self, InvalidHead> {
        let mut fields = Self {
            length: None,
            chunked: false,
            close: !http11,
            set_cookies: Vec::new(),
            headers: HeaderMap::new(),
        };
        for h in lines {
            if keep_headers {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(h.name.as_bytes()),
                    HeaderValue::from_bytes(h.value),
                ) {
                    fields.headers.append(name, value);
                }
            }
            if h.name.eq_ignore_ascii_case("content-length") {
                let value = content_length(h.value)?;
                if fields.length.is_some_and(|earlier| earlier != value) {
                    return Err(InvalidHead("conflicting Content-Length headers".into()));
                }
                fields.length = Some(value);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                fields.chunked = last_token(h.value).eq_ignore_ascii_case(b"chunked");
            } else if h.name.eq_ignore_ascii_case(CONNECTION.as_str()) {
                fields.close = connection_closes(h.value, fields.close);
            } else if h.name.eq_ignore_ascii_case("set-cookie") {
                if let Ok(value) = HeaderValue::from_bytes(h.value) {
                    fields.set_cookies.push(value);
                }
            }
        }
        Ok(fields)
    }

    /// How the body of a response with `status` to `method` is delimited.
    fn framing(&self, method: &Method, status: u16) -> Framing {
        let bodiless = *method == Method::HEAD || status == 204 || status == 304 || status < 200;
        if bodiless {
            Framing::Empty
        } else if self.chunked {
            // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3).
            Framing::Chunked
        } else {
            match self.length {
                Some(0) => Framing::Empty,
                Some(n) => Framing::Length(n),
                None => Framing::UntilClose,
            }
        }
    }
}

/// A `Content-Length` value as a number of bytes.
fn content_length(value: &[u8]) -> Result<u64, InvalidHead> {
    let text = std::str::from_utf8(value).unwrap_or_default().trim();
    text.parse()
        .map_err(|_| InvalidHead(format!("bad Content-Length {text:?}")))
}

/// Whether the connection closes after a `Connection: value` header, given whether it
/// would without it: the last of `close` and `keep-alive` wins.
fn connection_closes(value: &[u8], mut close: bool) -> bool {
    for token in value.split(|&b| b == b',') {
        let token = token.trim_ascii();
        if token.eq_ignore_ascii_case(b"close") {
            close = true;
        } else if token.eq_ignore_ascii_case(b"keep-alive") {
            close = false;
        }
    }
    close
}

fn last_token(value: &[u8]) -> &[u8] {
    value
        .rsplit(|&b| b == b',')
        .next()
        .unwrap_or_default()
        .trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn request(method: Method, url: &str, body: Option<&str>) -> OutgoingRequest {
        OutgoingRequest {
            method,
            url: url.parse().unwrap(),
            headers: HeaderMap::new(),
            body: body.map(str::to_owned),
            timeout: Duration::from_secs(1),
            inspect: None,
        }
    }

    fn written(request: &OutgoingRequest, cookie: Option<&str>) -> String {
        let mut out = Vec::new();
        write_request(&mut out, request, cookie);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_target_host_and_length() {
        let mut post = request(
            Method::POST,
            "http://127.0.0.1:8080/api/v1/pre-reservations?x=1&y=2",
            Some(r#"{"a":1}"#),
        );
        post.headers
            .insert("content-type", "application/json".parse().unwrap());
        assert_eq!(
            written(&post, Some("session=abc")),
            "POST /api/v1/pre-reservations?x=1&y=2 HTTP/1.1\r\n\
             host: 127.0.0.1:8080\r\n\
             user-agent: planrun/0.1.0\r\n\
             content-type: application/json\r\n\
             cookie: session=abc\r\n\
             content-length: 7\r\n\r\n{\"a\":1}"
        );
    }

    #[test]
    fn plan_headers_override_defaults_and_cookies_merge() {
        let mut get = request(Method::GET, "http://example.test/", None);
        get.headers.insert(HOST, "api.example".parse().unwrap());
        get.headers.insert(USER_AGENT, "qa".parse().unwrap());
        get.headers.insert(COOKIE, "a=1".parse().unwrap());
        get.headers.insert(CONTENT_LENGTH, "99".parse().unwrap());
        assert_eq!(
            written(&get, Some("b=2")),
            "GET / HTTP/1.1\r\nhost: api.example\r\nuser-agent: qa\r\ncookie: a=1; b=2\r\n\r\n"
        );
    }

    fn head(text: &str, method: Method) -> Head {
        parse_head(text.as_bytes(), &method, true).unwrap().unwrap()
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let ok = head(
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello",
            Method::GET,
        );
        assert_eq!(
            (ok.status, ok.len, ok.framing, ok.keep_alive),
            (200, 39, Framing::Length(12), true)
        );

        let chunked = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n",
            Method::GET,
        );
        assert_eq!(chunked.framing, Framing::Chunked);

        let to_close = head("HTTP/1.1 200 OK\r\n\r\n", Method::GET);
        assert_eq!(
            (to_close.framing, to_close.keep_alive),
            (Framing::UntilClose, false)
        );

        let head_request = head(
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
            Method::HEAD,
        );
        assert_eq!(head_request.framing, Framing::Empty);

        let no_content = head("HTTP/1.1 204 No Content\r\n\r\n", Method::DELETE);
        assert_eq!(
            (no_content.framing, no_content.keep_alive),
            (Framing::Empty, true)
        );

        let closing = head(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            Method::GET,
        );
        assert!(!closing.keep_alive);

        let old = head("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", Method::GET);
        assert!(!old.keep_alive);
        let old_kept = head(
            "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n",
            Method::GET,
        );
        assert!(old_kept.keep_alive);

        let continue_ = head("HTTP/1.1 100 Continue\r\n\r\n", Method::POST);
        assert!(continue_.is_informational());
    }

    #[test]
    fn collects_set_cookie_headers() {
        let h = head(
            "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2; Path=/\r\nContent-Length: 0\r\n\r\n",
            Method::GET,
        );
        assert_eq!(h.set_cookies, ["a=1", "b=2; Path=/"]);
        assert_eq!(h.headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(h.headers["content-length"], "0");
    }

    #[test]
    fn partial_and_invalid_heads() {
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", &Method::GET, false),
            Ok(None)
        );
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n", &Method::GET, false).is_err());
        assert!(
            parse_head(
                b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n",
                &Method::GET,
                false
            )
            .is_err()
        );
        assert!(
            parse_head(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                &Method::GET,
                false
            )
            .is_err()
        );
        let endless = [
            b"HTTP/1.1 200 OK\r\nX: ".as_slice(),
            &[b'a'; MAX_HEAD_BYTES],
        ]
        .concat();
        assert!(parse_head(&endless, &Method::GET, false).is_err());
    }
}
