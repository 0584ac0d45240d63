//! Property tests: arbitrary strings, as a data file, a response or an environment
//! variable could supply them, go through every template helper into every request
//! field (path, query, headers, body). Each request either goes to the plan's host
//! (scheme, host and port unchanged) or fails as a categorised `template` failure;
//! nothing panics and no other authority is ever asked for.
//!
//! Cases are bounded so CI stays fast; `PROPTEST_CASES=2000 cargo test hostile_values`
//! runs a longer search.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use planrun::compile::{Overrides, Target};
use planrun::engine::{self, FakeTransport, StopSignal};
use planrun::metrics;
use proptest::prelude::*;
use url::Url;

use crate::support::write_plan;

fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default_cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Pieces that have changed a URL's authority somewhere: joined at random, they make
/// strings far likelier to be hostile than uniform random text.
const PIECES: &[&str] = &[
    "/",
    "//",
    "///",
    "@",
    ":",
    "\\",
    "\\\\",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\0",
    "\u{7f}",
    "\u{85}",
    "\u{202e}",
    "\u{3002}",
    "\u{ff0e}",
    "\u{ff20}",
    "\u{ff0f}",
    "%2F",
    "%2f%2F",
    "%40",
    "%0d%0a",
    "..",
    "./",
    "?",
    "#",
    "&",
    "=",
    "http://",
    "https://",
    "HTTP:",
    "file:",
    "user:pw@",
    "127.0.0.1",
    "127.0.0.1:9",
    "[::1]:9",
    "other.invalid",
    "xn--",
    " ",
    "{{",
    "}}",
    "é",
];

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(PIECES), 0..8).prop_map(|p| p.concat()),
        1 => any::<String>(),
        1 => "[ -~]{0,24}",
    ]
}

/// The authority a URL names, as a transport would use it.
fn authority(url: &Url) -> (String, Option<String>, Option<u16>) {
    (
        url.scheme().to_owned(),
        url.host_str().map(str::to_owned),
        url.port_or_known_default(),
    )
}

proptest! {
    #![proptest_config(config(512))]

    /// The one function that makes request URLs, on both schemes, with and without a
    /// base path: an error, or a URL on the host (also once written out and read back,
    /// as the HTTPS client does).
    #[test]
    fn a_rendered_path_never_changes_the_authority(
        path in hostile_string(),
        prefix in prop::sample::select(&["", "/", "/p/"][..]),
    ) {
        for host in ["http://127.0.0.1:8000", "https://127.0.0.1:8443/base"] {
            let target = Target::parse(host).unwrap();
            let base = Url::parse(host).unwrap();
            let path = format!("{prefix}{path}");
            if let Ok(url) = target.url(&path) {
                prop_assert_eq!(authority(&url), authority(&base), "{:?} → {}", path, url);
                prop_assert!(url.username().is_empty() && url.password().is_none());
                prop_assert_eq!(url.fragment(), None);
                prop_assert!(url.path().starts_with(base.path().trim_end_matches('/')));
                let again = Url::parse(url.as_str()).unwrap();
                prop_assert_eq!(authority(&again), authority(&base), "{}", url);
            } else {
                // Refused: only a path that does not start with a lone `/`, or that
                // holds what a URL could misread, is.
                prop_assert!(
                    !path.starts_with('/')
                        || path.starts_with("//")
                        || path.contains('\\')
                        || path.chars().any(char::is_control)
                        || (host.ends_with("/base") && path.to_ascii_lowercase().contains('.')),
                    "{:?} was refused",
                    path
                );
            }
        }
    }
}

/// Counts panics anywhere in the test process (a user task's panic is caught by tokio
/// and would otherwise go unseen), then hands them on to the usual hook.
fn panics() -> usize {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            COUNT.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
    COUNT.load(Ordering::SeqCst)
}

/// One task per way a value reaches a request: every template helper and every field.
/// The first data row is harmless (the compile-time dry render reads it); each
/// column is the hostile value in every other row.
const PLAN: &str = r#"
host: HOST
seed: 11
data:
  d: { file: values.json }
classes:
  A:
    tasks:
      raw:       { path: "{{ d.v }}" }
      prefixed:  { path: "/p/{{ d.v }}" }
      joined:    { path: "{{ d.v ~ d.v }}" }
      upper:     { path: "/{{ d.v | upper }}" }
      lower:     { path: "{{ d.v | lower }}" }
      trimmed:   { path: "{{ d.v | trim }}" }
      replaced:  { path: "{{ d.v | replace('a', '//') }}" }
      sliced:    { path: "{{ d.v[:12] }}" }
      json:      { path: "/{{ d.v | tojson }}" }
      encoded:   { path: "/{{ d.v | urlencode }}", query: { e: "{{ d.v | urlencode }}" } }
      b64:       { path: "/{{ base64_encode(d.v) }}" }
      b64dec:    { path: "{{ base64_decode(d.b64) }}" }
      sha:       { path: "/{{ sha256(d.v) }}" }
      hmac:      { path: "/{{ hmac_sha256(d.v, d.v) }}" }
      hmac64:    { path: "/{{ hmac_sha256_base64(d.v, d.v) }}" }
      days:      { path: "/{{ d.date | add_days(1) }}" }
      choice:    { path: "{{ choice([d.v, d.v]) }}" }
      set-path:
        steps:
          - set: { next: "{{ d.v }}" }
          - { path: "{{ next }}" }
      query:     { path: /q, query: { v: "{{ d.v }}", w: "{{ base64_decode(d.b64) }}" } }
      header:    { path: /h, headers: { Content-Type: text/plain, X-Value: "{{ d.v }}", X-Sig: "{{ hmac_sha256(d.v, body) }}" }, method: POST, body: "{{ d.v }}x" }
      body:      { path: /b, method: POST, headers: { Content-Type: text/plain }, body: "{{ d.v }}" }
load: { users: 3, spawn-rate: 1000/s, run-time: 2s }
"#;

/// Runs `PLAN` with `values` on `host` under the paused clock; returns every URL the
/// transport was asked for and the failures' categories.
fn run_values(host: &str, values: &[String]) -> (Vec<Url>, Vec<String>) {
    let mut rows = vec![serde_json::json!({ "v": "/ok", "b64": "L29r", "date": "2024-01-31" })];
    rows.extend(
        values
            .iter()
            .map(|v| serde_json::json!({ "v": v, "b64": v, "date": v })),
    );
    let plan = write_plan("values.yaml", &PLAN.replace("HOST", host));
    std::fs::write(
        plan.dir.path().join("values.json"),
        serde_json::to_string(&rows).unwrap(),
    )
    .unwrap();
    let loaded = planrun::plan::load(&plan.path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let exec =
        planrun::compile::compile(&loaded, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));

    let urls = Arc::new(Mutex::new(Vec::new()));
    let seen = urls.clone();
    let transport = FakeTransport::new(Duration::from_millis(20), move |request| {
        seen.lock().unwrap().push(request.url.clone());
        Ok(200)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let summary = runtime.block_on(async {
        let exec = Arc::new(exec);
        let start = tokio::time::Instant::now();
        let (events, recorder) = metrics::recorder(&exec, start, None, Arc::new(|_: &str| {}));
        let outcome = engine::run(
            exec,
            Arc::new(transport),
            events,
            start,
            StopSignal::default(),
        )
        .await;
        recorder.finish(outcome).await
    });
    let categories = summary
        .failures
        .iter()
        .map(|f| f.category.clone())
        .collect();
    let urls = urls.lock().unwrap().clone();
    (urls, categories)
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn arbitrary_values_through_every_helper_and_field_stay_on_the_host(
        values in prop::collection::vec(hostile_string(), 1..5),
        https in any::<bool>(),
    ) {
        let host = if https { "https://127.0.0.1:8443" } else { "http://127.0.0.1:8000" };
        let base = Url::parse(host).unwrap();
        let before = panics();
        let (urls, categories) = run_values(host, &values);
        prop_assert_eq!(panics(), before, "a task panicked");
        prop_assert!(!urls.is_empty());
        for url in &urls {
            prop_assert_eq!(authority(url), authority(&base), "{}", url);
            prop_assert!(url.username().is_empty() && url.password().is_none(), "{}", url);
        }
        // The fake target answers 200 to everything: a failure can only be a request
        // that was refused before it was sent.
        for category in &categories {
            prop_assert_eq!(category.as_str(), "template", "{:?}", values);
        }
    }
}
