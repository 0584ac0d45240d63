//! `Target`: the plan's `host`, parsed once, and the one way a request URL is made from
//! it. Traffic goes only where `host` says: a rendered path sets the URL's path and
//! query on a copy of the host's URL, and is never parsed as (part of) a URL itself, so
//! no value (`@other:8080/x`, `//other/x`, `http://other/`, `\\other`) can change the
//! scheme, the host or the port, or make planrun look a name up in DNS.
//!
//! A `host` may not carry credentials (`http://user:pw@h`): planrun prints the host in
//! the terminal and in every report, so credentials there would be printed too. They
//! belong in a header (`Authorization: Basic {{ base64_encode(...) }}`), whose value is
//! redacted from the reports.

use url::Url;

/// The plan's host: a base URL with a scheme, a host, perhaps a port and a base path,
/// and nothing else (no credentials, query or fragment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    base: Url,
}

impl Target {
    /// Parses and checks a `host`; the error says what is wrong with it (never repeating a
    /// password).
    pub fn parse(host: &str) -> Result<Self, String> {
        let base = Url::parse(host.trim()).map_err(|e| {
            let e = e.to_string();
            format!("{e}: expected e.g. `http://127.0.0.1:8000`")
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(format!("scheme `{}` is not http or https", base.scheme()));
        }
        if base.host().is_none() {
            return Err("no host name".to_owned());
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(
                "it carries credentials (`user:password@`), which every report would print: \
                 remove them and send them as a header instead, e.g. \
                 `Authorization: \"Basic {{ base64_encode(env.USER ~ ':' ~ env.PASSWORD) }}\"` \
                 (list the variables under `secrets:`)"
                    .to_owned(),
            );
        }
        if base.query().is_some() {
            return Err(
                "it has a query (`?…`), which would break every request's path: \
                 remove it and give the parameters in each request's `query:`"
                    .to_owned(),
            );
        }
        if base.fragment().is_some() {
            return Err(
                "it has a fragment (`#…`), which is never sent and would break every \
                 request's path: remove it"
                    .to_owned(),
            );
        }
        Ok(Self { base })
    }

    /// The URL of `path` (which may end in `?query`) on this host. Fails, saying why,
    /// when `path` could not be sent as a path of this host.
    pub fn url(&self, path: &str) -> Result<Url, String> {
        let (path, query) = split_path(path)?;
        let mut url = self.base.clone();
        let base_path = self.base.path().trim_end_matches('/');
        if base_path.is_empty() {
            url.set_path(path);
        } else {
            url.set_path(&format!("{base_path}{path}"));
        }
        url.set_query(query);
        // Setting a path or a query cannot change the authority; checked all the same,
        // since this is the one place the guarantee is made.
        let same = url.scheme() == self.base.scheme()
            && url.host() == self.base.host()
            && url.port_or_known_default() == self.base.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none()
            && url.fragment().is_none();
        if !same {
            return Err("would change the request's host".to_owned());
        }
        // `..` segments are resolved, as a server would: they may not climb out of the
        // host's base path (`http://h/api` + `/../admin`).
        let inside = url.path() == base_path
            || url
                .path()
                .strip_prefix(base_path)
                .is_some_and(|rest| rest.starts_with('/'));
        if !inside {
            return Err(format!(
                "climbs out of the host's base path `{base_path}` (through `..`)"
            ));
        }
        Ok(url)
    }
}

/// `host` as a message may quote it: a password in it replaced.
pub(crate) fn without_password(host: &str) -> String {
    match Url::parse(host.trim()) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.as_str().trim_end_matches('/').to_owned()
        }
        Ok(_) => host.to_owned(),
        // Unparsed: cut whatever could be a password (`scheme://user:pw@`).
        Err(_) => match (host.find("://"), host.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                format!("{}***{}", &host[..start + 3], &host[at..])
            }
            _ => host.to_owned(),
        },
    }
}

/// The password of `host` as written (`pw` in `http://user:pw@h`), if it has one.
pub(crate) fn raw_password(host: &str) -> Option<&str> {
    let (_, rest) = host.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// Checks a path as it will be sent and splits it at its first `?`.
pub(crate) fn split_path(path: &str) -> Result<(&str, Option<&str>), String> {
    if !path.starts_with('/') {
        return Err("does not start with `/`: a path is joined to `host`".to_owned());
    }
    if path.starts_with("//") {
        return Err("starts with `//`, which would name another host".to_owned());
    }
    if path.chars().any(char::is_control) {
        return Err("contains a control character (such as CR or LF)".to_owned());
    }
    if path.contains('\\') {
        return Err("contains a backslash, which URLs read as `/`".to_owned());
    }
    Ok(match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    })
}

/// `text` as a message may quote it: control characters escaped, and at most 80
/// characters, so a hostile value cannot reshape the terminal or flood a report.
pub(crate) fn quoted(text: &str) -> String {
    const MAX: usize = 80;
    let mut shown: String = text
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX).is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [&str; 16] = [
        "@127.0.0.1:18998/x",
        "@abc1234",
        "//127.0.0.1:18998/x",
        "///x",
        "http://127.0.0.1:18998/x",
        "https://other.example/",
        "\\\\127.0.0.1:18998\\x",
        "/\\127.0.0.1:18998/x",
        "/x\r\nHost: other",
        "/x\n",
        "/x\0",
        "%2F%2F127.0.0.1:18998",
        "127.0.0.1:18998",
        "user:pw@other/x",
        "",
        "?x=1",
    ];

    #[test]
    fn a_hostile_path_is_refused_or_stays_on_the_host() {
        for host in ["http://127.0.0.1:8000", "https://127.0.0.1:8443/base/"] {
            let target = Target::parse(host).unwrap();
            let base = Url::parse(host).unwrap();
            for path in HOSTILE {
                assert!(target.url(path).is_err(), "{host} {path:?} was accepted");
            }
            for path in [
                "/%2F%2F127.0.0.1:18998/x",
                "/。other。example/x",
                "/@127.0.0.1:18998",
                "/x?next=//other:1/&u=http://other/",
                "/x#frag",
                "/a/../x",
                "/%2e/x",
                "/x?a=1#b?c",
                "/ünïcode/ path",
            ] {
                let url = target.url(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                assert_eq!(url.scheme(), base.scheme(), "{path}");
                assert_eq!(url.host(), base.host(), "{path}");
                assert_eq!(url.port(), base.port(), "{path}");
                assert_eq!(url.fragment(), None, "{path}");
            }
        }
    }

    #[test]
    fn a_path_joins_the_hosts_base_path_and_keeps_its_query() {
        let plain = Target::parse("http://127.0.0.1:8000").unwrap();
        assert_eq!(
            plain.url("/api/v1/x?a=1&b=2").unwrap().as_str(),
            "http://127.0.0.1:8000/api/v1/x?a=1&b=2"
        );
        let based = Target::parse("https://h.example/base/").unwrap();
        assert_eq!(
            based.url("/x").unwrap().as_str(),
            "https://h.example/base/x"
        );
        // `..` resolves, but not out of the base path; on a bare host it stops at `/`.
        assert_eq!(
            based.url("/a/../x").unwrap().as_str(),
            "https://h.example/base/x"
        );
        for climbing in ["/../x", "/%2e%2e/x", "/a/../../x", "/.."] {
            let reason = based.url(climbing).unwrap_err();
            assert!(reason.contains("base path"), "{climbing}: {reason}");
        }
        assert_eq!(
            plain.url("/../../x").unwrap().as_str(),
            "http://127.0.0.1:8000/x"
        );
        // A `#` in a value is sent as part of the path, never dropped as a fragment.
        assert_eq!(
            plain.url("/tags/#1").unwrap().as_str(),
            "http://127.0.0.1:8000/tags/%231"
        );
    }

    #[test]
    fn a_host_with_credentials_a_query_or_a_fragment_is_refused_without_the_password() {
        for (host, says) in [
            ("http://user:s3cr3t@127.0.0.1:8000", "credentials"),
            ("http://user@127.0.0.1:8000", "credentials"),
            ("http://127.0.0.1:8000/base?x=1", "query"),
            ("http://127.0.0.1:8000/base#frag", "fragment"),
            ("ftp://127.0.0.1", "scheme"),
        ] {
            let reason = Target::parse(host).unwrap_err();
            assert!(reason.contains(says), "{host}: {reason}");
            assert!(!reason.contains("s3cr3t"), "{reason}");
        }
    }

    #[test]
    fn a_quoted_host_hides_its_password() {
        assert_eq!(
            without_password("http://admin:hunter2@127.0.0.1:8000"),
            "http://admin:***@127.0.0.1:8000"
        );
        assert_eq!(without_password("http://a:b@[::1"), "http://***@[::1");
        assert_eq!(without_password("ftp://h"), "ftp://h");
        assert_eq!(raw_password("http://a:p%40ss@h/x@y"), Some("p%40ss"));
        assert_eq!(raw_password("http://a@h"), None);
        assert_eq!(raw_password("http://h/a:b@c"), None);
    }

    #[test]
    fn quoted_values_cannot_reshape_a_terminal() {
        assert_eq!(quoted("/x\r\n\u{1b}[2J"), "/x\\r\\n\\u{1b}[2J");
        assert_eq!(quoted(&"a".repeat(100)).chars().count(), 81);
    }
}
