//! `Secrets`: the values of the environment variables a plan marks secret, and the one
//! function that hides them, `Secrets::scrub`, which everything planrun writes passes
//! through: `Results` (so every report file and export), the failure lines on stderr, `check`
//! and errors.
//!
//! A variable is secret when the plan lists it under `secrets`, or when a template uses
//! it as the key of `hmac_sha256`/`hmac_sha256_base64` (written as `env.NAME`, as the
//! first argument; a key first copied into a variable is not seen: list it). Values come
//! from the environment, else from `Overrides::env_defaults` (the sample API's own
//! secrets). A value shorter than `MIN_LEN` bytes is not scrubbed: hiding every `abc` in
//! the reports would garble them and hide little; the run warns about it by name.

use std::sync::Arc;

use super::Overrides;
use super::context::Compiler;
use super::redact::REDACTED;

/// Values shorter than this (in bytes) are left alone, with a warning. Eight, not less:
/// summary.json carries base64 histograms, and a short value scrubbed out of one (`AAAA`
/// is common there) would leave a file `planrun report` cannot read back.
pub(crate) const MIN_LEN: usize = 8;

/// The values to hide, in every form they may take in planrun's output.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Each value as written, JSON-escaped and HTML-escaped (deduplicated), longest first.
    patterns: Arc<[Vec<u8>]>,
    /// Variables marked secret whose values are too short to scrub.
    too_short: Vec<String>,
}

impl Secrets {
    /// Secrets from `(name, value)` pairs of marked variables that are set.
    pub fn new<'a>(values: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut too_short = Vec::new();
        for (name, value) in values {
            if value.len() < MIN_LEN {
                if !value.is_empty() && !too_short.iter().any(|n| n == name) {
                    too_short.push(name.to_owned());
                }
                continue;
            }
            for form in [value.to_owned(), json_escaped(value), html_escaped(value)] {
                if !patterns.iter().any(|p| p == form.as_bytes()) {
                    patterns.push(form.into_bytes());
                }
            }
        }
        patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
        Self {
            patterns: patterns.into(),
            too_short,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// One line per marked variable left unscrubbed because its value is too short; it
    /// names the variable, never the value.
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.too_short
            .iter()
            .map(|name| {
                format!(
                    "warning: secret `{name}` is shorter than {MIN_LEN} bytes, so it is not \
                     scrubbed from reports and logs"
                )
            })
            .collect()
    }

    /// `text` with every occurrence of a secret replaced by `[redacted]`.
    pub fn scrub(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_owned();
        }
        // Whole secrets (ASCII `[redacted]` for whole UTF-8 sequences) leave valid UTF-8.
        String::from_utf8(self.scrub_bytes(text.as_bytes()))
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// `bytes` with every occurrence of a secret replaced by `[redacted]`. Occurrences
    /// that overlap (one secret inside or across another) become one `[redacted]`, so no
    /// part of either is left showing.
    fn scrub_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut hidden: Vec<(usize, usize)> = Vec::new();
        for pattern in self.patterns.iter() {
            let mut from = 0;
            while let Some(at) = find(&bytes[from..], pattern) {
                hidden.push((from + at, from + at + pattern.len()));
                from += at + 1;
            }
        }
        if hidden.is_empty() {
            return bytes.to_vec();
        }
        hidden.sort_unstable();
        let mut out = Vec::with_capacity(bytes.len());
        let mut copied = 0;
        let mut spans = hidden.into_iter().peekable();
        while let Some((start, mut end)) = spans.next() {
            while let Some(&(next_start, next_end)) = spans.peek() {
                if next_start > end {
                    break;
                }
                end = end.max(next_end);
                spans.next();
            }
            out.extend_from_slice(&bytes[copied..start]);
            out.extend_from_slice(REDACTED.as_bytes());
            copied = end;
        }
        out.extend_from_slice(&bytes[copied..]);
        out
    }

    /// Scrubs every string (and map key) in a JSON tree.
    pub(crate) fn scrub_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(text) => *text = self.scrub(text),
            Value::Array(items) => items.iter_mut().for_each(|item| self.scrub_json(item)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut child) in entries {
                    self.scrub_json(&mut child);
                    map.insert(self.scrub(&key), child);
                }
            }
            _ => {}
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value as it appears inside a JSON string.
fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::from(value).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// The value as minijinja's HTML autoescape writes it (`report.html`).
fn html_escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            _ => out.push(c),
        }
    }
    out
}

/// The secrets of a plan: the variables its `secrets` lists and those its templates use
/// as HMAC keys, with their values where set. Names never set are skipped: a plan is
/// checked in CI without its secrets.
pub(super) fn collect(cx: &Compiler, overrides: &Overrides) -> Secrets {
    let mut names: Vec<String> = cx.plan.raw.secrets.clone().unwrap_or_default();
    for site in &cx.sites {
        for name in hmac_keys(&site.source) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let values: Vec<(String, String)> = names
        .into_iter()
        .filter_map(|name| overrides.env(&name).map(|value| (name, value)))
        .collect();
    Secrets::new(values.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

/// The environment variables used as the key of an HMAC function in a template:
/// `hmac_sha256(env.NAME, …)` and `hmac_sha256_base64(env.NAME, …)`.
pub(super) fn hmac_keys(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in source.match_indices("hmac_sha256") {
        let rest = &source[at + "hmac_sha256".len()..];
        let rest = rest.strip_prefix("_base64").unwrap_or(rest).trim_start();
        let Some(rest) = rest.strip_prefix('(') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("env.") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_occurrence_is_replaced() {
        let secrets = Secrets::new([("TOKEN", "tok-12345")]);
        assert_eq!(
            secrets.scrub("GET /a?t=tok-12345 failed; tok-12345 again"),
            "GET /a?t=[redacted] failed; [redacted] again"
        );
        assert_eq!(secrets.scrub("nothing here"), "nothing here");
    }

    #[test]
    fn json_and_html_escaped_forms_are_replaced() {
        let value = r#"pa"ss\word/<1>"#;
        let secrets = Secrets::new([("S", value)]);
        let json = serde_json::json!({ "reason": format!("bad {value}") }).to_string();
        assert!(!json.contains(value), "the JSON form differs: {json}");
        assert_eq!(secrets.scrub(&json), r#"{"reason":"bad [redacted]"}"#);

        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.add_template("t.html", "<td>{{ v }}</td>").unwrap();
        let html = env
            .get_template("t.html")
            .unwrap()
            .render(minijinja::context! { v => value })
            .unwrap();
        assert!(!html.contains(value), "the HTML form differs: {html}");
        assert_eq!(secrets.scrub(&html), "<td>[redacted]</td>");
    }

    #[test]
    fn overlapping_secrets_leave_no_part_showing() {
        // One inside another: the longer one goes whole, not `[redacted]-extra`.
        let secrets = Secrets::new([("SHORT", "tok-1234"), ("LONG", "tok-1234-extra")]);
        assert_eq!(
            secrets.scrub("a tok-1234-extra b tok-1234 c"),
            "a [redacted] b [redacted] c"
        );
        // Across each other: one `[redacted]` over both.
        let secrets = Secrets::new([("A", "abcdefgh"), ("B", "efghijkl")]);
        assert_eq!(secrets.scrub("x abcdefghijkl y"), "x [redacted] y");
        // A value repeating itself.
        let secrets = Secrets::new([("R", "aaaaaaaa")]);
        assert_eq!(secrets.scrub("aaaaaaaaaa!"), "[redacted]!");
    }

    #[test]
    fn short_values_are_skipped_with_a_warning_naming_the_variable() {
        let secrets = Secrets::new([("PIN", "123"), ("EMPTY", ""), ("KEY", "long-key")]);
        assert_eq!(secrets.scrub("123 long-key"), "123 [redacted]");
        let warnings = secrets.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("`PIN`"), "{}", warnings[0]);
        assert!(!warnings[0].contains("123"), "{}", warnings[0]);
    }

    #[test]
    fn non_ascii_values_keep_the_text_valid() {
        let secrets = Secrets::new([("S", "contraseña")]);
        assert_eq!(secrets.scrub("¿contraseña?"), "¿[redacted]?");
    }

    #[test]
    fn json_trees_are_scrubbed_in_values_and_keys() {
        let secrets = Secrets::new([("S", "s3cret-value")]);
        let mut value = serde_json::json!({
            "path": "/a/s3cret-value", "n": 1, "s3cret-value-key": ["x s3cret-value"]
        });
        secrets.scrub_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({ "path": "/a/[redacted]", "n": 1, "[redacted]-key": ["x [redacted]"] })
        );
    }

    #[test]
    fn hmac_keys_are_found_in_either_function() {
        let source = "sha256={{ hmac_sha256(env.APP_SECRET, body) }} \
                      {{ hmac_sha256_base64( env.MP_KEY , 'x') }} {{ hmac_sha256(key, body) }} \
                      {{ hmac_sha256(env.APP_SECRET, 'y') }}";
        assert_eq!(hmac_keys(source), vec!["APP_SECRET", "MP_KEY"]);
    }
}
