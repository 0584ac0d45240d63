//! `Jar`: one user's cookies, kept as a browser keeps them (cookie_store applies RFC
//! 6265's domain, path, expiry and `Secure` rules). One jar serves both schemes, so a
//! cookie set over `https://` is sent over `http://` where it applies.

use http::HeaderValue;
use url::Url;

#[derive(Debug, Default)]
pub(crate) struct Jar(cookie_store::CookieStore);

impl Jar {
    /// The `Cookie` header's value for a request to `url`; `None` when no cookie applies.
    pub(crate) fn header(&self, url: &Url) -> Option<String> {
        let pairs: Vec<String> = self
            .0
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// Keeps the cookies of a response from `url`'s `Set-Cookie` headers; a header that
    /// is not a cookie is ignored, as a browser ignores it.
    pub(crate) fn store(&mut self, set_cookies: &[HeaderValue], url: &Url) {
        let cookies = set_cookies
            .iter()
            .filter_map(|value| std::str::from_utf8(value.as_bytes()).ok())
            .filter_map(|text| cookie_store::RawCookie::parse(text).ok())
            .map(|cookie| cookie.into_owned());
        self.0.store_response_cookies(cookies, url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_follow_their_path_and_secure_flag() {
        let mut jar = Jar::default();
        let login: Url = "https://api.test/login".parse().unwrap();
        jar.store(
            &[
                HeaderValue::from_static("sid=s1; Path=/"),
                HeaderValue::from_static("admin=1; Path=/admin"),
                HeaderValue::from_static("tok=t; Path=/; Secure"),
                HeaderValue::from_static("=broken"),
            ],
            &login,
        );
        let https: Url = "https://api.test/me".parse().unwrap();
        // In no particular order, as cookie_store keeps them.
        let mut sent: Vec<String> = jar
            .header(&https)
            .unwrap()
            .split("; ")
            .map(String::from)
            .collect();
        sent.sort();
        assert_eq!(sent, ["sid=s1", "tok=t"]);
        let http: Url = "http://api.test/me".parse().unwrap();
        assert_eq!(jar.header(&http).as_deref(), Some("sid=s1"));
        let other: Url = "https://other.test/".parse().unwrap();
        assert_eq!(jar.header(&other), None);
    }
}
