//! Hostile targets: each fault a target can commit becomes its failure category in the
//! summary and in `summary.json`, the run still ends on time, nothing panics, and the
//! failures are logged as a line per reason, not one per request.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use std::process::Stdio;

use crate::hostile_server::{Fault, HostileServer, LARGE_JSON_BYTES, OVERSIZED_BYTES};
use planrun::compile::{self, Overrides};
use planrun::report::Results;
use planrun::units::ByteSize;

use crate::support::{compile_text, results, write_plan};

/// Run time and grace are short; the request timeout is shorter than the grace, so a
/// hanging target shows as timeouts, not as requests cancelled at the end.
const PLAN: &str = r#"host: HOST
timeout: TIMEOUT
classes:
  A:
    think-time: constant 50ms
    tasks:
      thing: { path: /api/v1/thing }
load: { users: 3, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1500ms }
"#;

/// What a run against a hostile target left.
struct Run {
    results: Results,
    stdout: String,
    stderr: String,
    /// The most file descriptors planrun held at once (Linux; 0 elsewhere).
    max_fds: usize,
}

/// The users in `PLAN`: each holds at most one socket at a time.
const USERS: usize = 3;

fn run_against(host: &str, timeout: &str) -> Run {
    run_plan(&PLAN.replace("HOST", host).replace("TIMEOUT", timeout))
}

/// Serves `fault` over TCP, then over TLS, runs `PLAN` against each (trusting the TLS
/// server's CA) and judges each run with `check`: a fault ends the same way on both.
fn over_tcp_and_tls(fault: Fault, timeout: &str, check: impl Fn(&Run)) {
    for tls in [false, true] {
        let server = HostileServer::start_over(fault, tls);
        let plan = PLAN
            .replace("HOST", &server.url())
            .replace("TIMEOUT", timeout);
        check(&run_plan(&format!("{}{plan}", server.plan_tls())));
    }
}

/// Runs the plan `text` through the `planrun` binary; it must exit 0.
fn run_plan(text: &str) -> Run {
    let plan = write_plan("hostile.yaml", text);
    let out = plan.dir.path().join("reports");
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .arg(&plan.path)
        .args(["--no-preflight", "--progress", "off", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run planrun");
    // Sample the open descriptors while it runs: a fault that leaked a socket per
    // request would show here within the second of load. (Its output is a few lines,
    // far below a pipe's capacity, so it can wait unread until the end.)
    let mut max_fds = 0;
    while child.try_wait().expect("wait").is_none() {
        // 1s of load, at most 1.5s of grace, and start-up: never this long.
        assert!(started.elapsed() < Duration::from_secs(8), "still running");
        // Not in the first moments: until it execs, the child holds the test's own.
        if started.elapsed() > Duration::from_millis(200) {
            max_fds = max_fds.max(open_fds(child.id()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let dir = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    Run {
        results: results(&dir),
        stdout,
        stderr,
        max_fds,
    }
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

impl Run {
    fn assert_no_socket_leak(&self) {
        // The process's own descriptors (stdio, the runtime's, the signal pipe: 8 to 12),
        // and one socket per user at most. A socket leaked per request would pass this
        // within a few requests.
        assert!(
            self.max_fds <= USERS + 12,
            "{} descriptors open",
            self.max_fds
        );
    }

    fn categories(&self) -> BTreeSet<String> {
        self.results
            .failures
            .iter()
            .map(|f| f.category.clone())
            .collect()
    }

    /// Every request failed, for `category` alone, and the log said so in two lines.
    fn assert_only(&self, category: &str, reason: &str) {
        assert_eq!(
            self.categories(),
            BTreeSet::from([category.to_owned()]),
            "{:?}",
            self.results.failures
        );
        // The process's own descriptors (stdio, the runtime's, the signal pipe: 8 to 12),
        // and one socket per user at most. A socket leaked per request would pass this
        // within a few requests.
        assert!(
            self.max_fds <= USERS + 12,
            "{} descriptors open",
            self.max_fds
        );
        let count = self.results.aggregate.count;
        assert!(count >= 3, "{count} requests");
        assert_eq!(self.results.aggregate.failures, count);
        assert!(self.stdout.contains(reason), "{}", self.stdout);
        let log: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("failure"))
            .collect();
        // The first occurrence, then at most one count at the end (runs are under 10s).
        assert!(matches!(log.len(), 1 | 2), "{log:#?}");
        assert!(log[0].contains(&format!("{category}: {reason}")) || log[0].contains(category));
    }
}

fn http(server: &HostileServer) -> String {
    format!("http://{}", server.addr)
}

#[test]
fn a_refused_connection_is_a_connect_failure() {
    let server = HostileServer::start(Fault::Refuse);
    let run = run_against(&http(&server), "300ms");
    run.assert_only("connect", "connection refused or unreachable");
    let log: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("failure"))
        .collect();
    assert_eq!(log.len(), 2, "{log:#?}");
    assert!(log[1].contains("more since"), "{log:#?}");
}

#[test]
fn a_connection_closed_without_an_answer_is_a_connection_failure() {
    over_tcp_and_tls(Fault::CloseWithoutAnswer, "300ms", |run| {
        run.assert_only("connection", "connection closed or reset")
    });
}

#[test]
fn a_reset_before_the_head_is_complete_is_a_connection_failure() {
    over_tcp_and_tls(Fault::ResetMidHead, "300ms", |run| {
        run.assert_only("connection", "connection closed or reset")
    });
}

#[test]
fn a_body_cut_short_is_a_body_failure() {
    over_tcp_and_tls(Fault::TruncatedBody, "300ms", |run| {
        run.assert_only("body", "")
    });
}

#[test]
fn a_server_that_never_answers_is_a_timeout() {
    over_tcp_and_tls(Fault::Silent, "300ms", |run| {
        run.assert_only("timeout", "timeout")
    });
}

#[test]
fn headers_that_never_finish_are_a_timeout() {
    over_tcp_and_tls(Fault::SlowHeaders, "300ms", |run| {
        run.assert_only("timeout", "timeout")
    });
}

#[test]
fn a_trickling_body_is_a_timeout() {
    over_tcp_and_tls(Fault::TrickleBody, "300ms", |run| {
        run.assert_only("timeout", "timeout")
    });
}

#[test]
fn an_answer_that_is_not_http_is_an_invalid_http_failure() {
    over_tcp_and_tls(Fault::InvalidHttp, "300ms", |run| {
        run.assert_only("invalid-http", "")
    });
}

#[test]
fn a_port_that_does_not_speak_tls_is_a_tls_failure() {
    let server = HostileServer::start(Fault::NotTls);
    run_against(&format!("https://{}", server.addr), "300ms").assert_only("tls", "");
}

#[test]
fn a_host_that_does_not_resolve_is_a_dns_failure() {
    // `.invalid` never resolves (RFC 2606); nothing leaves the machine but the lookup.
    // The lookup asks the system's resolver, which may be slow to say no under load:
    // a lookup still unanswered at the request's timeout is rightly a timeout.
    let run = run_against("http://planrun-hostile.invalid:8080", "1s");
    let categories = run.categories();
    assert!(categories.contains("dns"), "{:?}", run.results.failures);
    assert!(
        categories.iter().all(|c| c == "dns" || c == "timeout"),
        "{:?}",
        run.results.failures
    );
    assert!(
        run.stdout.contains("host name did not resolve"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_oversized_body_is_counted_whole_without_failing() {
    over_tcp_and_tls(Fault::OversizedBody, "5s", |run| {
        assert!(run.categories().is_empty(), "{:?}", run.results.failures);
        run.assert_no_socket_leak();
        let aggregate = &run.results.aggregate;
        assert!(aggregate.count >= 3, "{aggregate:?}");
        assert_eq!(aggregate.average_content_bytes, OVERSIZED_BYTES as f64);
    });
}

/// `PLAN`, with a `max-body` and a task that extracts and checks `$.id` of the body.
const INSPECTING_PLAN: &str = r#"host: HOST
timeout: 5s
max-body: MAX_BODY
classes:
  A:
    think-time: constant 50ms
    tasks:
      thing:
        path: /api/v1/thing
        extract: { id: { json: $.id } }
        checks: [{ name: id is 42, json: $.id, equals: 42 }]
load: { users: 3, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1500ms }
"#;

/// Runs `INSPECTING_PLAN` against a large JSON body over TCP, then over TLS.
fn runs_inspecting(max_body: &str) -> Vec<Run> {
    [false, true]
        .map(|tls| {
            let server = HostileServer::start_over(Fault::LargeJson, tls);
            let plan = INSPECTING_PLAN
                .replace("HOST", &server.url())
                .replace("MAX_BODY", max_body);
            run_plan(&format!("{}{plan}", server.plan_tls()))
        })
        .into()
}

#[test]
fn a_json_body_over_max_body_fails_extraction_saying_it_was_cut() {
    for run in runs_inspecting("64KiB") {
        run.assert_no_socket_leak();
        let failures = &run.results.failures;
        assert_eq!(failures.len(), 1, "{failures:#?}");
        assert_eq!(failures[0].category, "extract");
        assert_eq!(
            failures[0].reason,
            "extract: body over `max-body` (64KiB): only the first 64KiB was kept; \
         `id` (json $.id) found nothing"
        );
        let aggregate = &run.results.aggregate;
        let count = aggregate.count;
        assert!(count >= 3, "{aggregate:?}");
        assert_eq!(aggregate.failures, count);
        assert_eq!(failures[0].count, count);
        // Every byte was read and counted, though only 64 KiB of each body was kept.
        assert_eq!(aggregate.average_content_bytes, LARGE_JSON_BYTES as f64);
        // The check ran on the cut body too, and failed every time.
        let check = &run.results.checks[0];
        assert_eq!(check.name, "id is 42");
        assert_eq!((check.passed, check.failed), (0, count));
    }
}

#[test]
fn a_json_body_within_max_body_extracts_and_checks_fine() {
    for run in runs_inspecting("128KiB") {
        run.assert_no_socket_leak();
        assert!(run.categories().is_empty(), "{:?}", run.results.failures);
        let aggregate = &run.results.aggregate;
        let count = aggregate.count;
        assert!(count >= 3, "{aggregate:?}");
        assert_eq!(aggregate.average_content_bytes, LARGE_JSON_BYTES as f64);
        let check = &run.results.checks[0];
        assert_eq!((check.passed, check.failed), (count, 0));
    }
}

#[test]
fn max_body_is_written_with_a_unit_or_in_bytes_and_set_from_the_command_line() {
    let plan = |max_body: &str| {
        INSPECTING_PLAN
            .replace("HOST", "http://127.0.0.1:1")
            .replace("MAX_BODY", max_body)
    };
    assert_eq!(compile_text(&plan("512KiB")).max_body, ByteSize::kib(512));
    assert_eq!(
        compile_text(&plan("4MB")).max_body,
        ByteSize::bytes(4_000_000)
    );
    assert_eq!(
        compile_text(&plan("2000000")).max_body,
        ByteSize::bytes(2_000_000)
    );
    let default = plan("1KiB").replace("max-body: 1KiB\n", "");
    assert_eq!(compile_text(&default).max_body, ByteSize::mib(1));
    let file = write_plan("plan.yaml", &default);
    let loaded = planrun::plan::load(&file.path, &["max-body=64KiB".to_owned()]).unwrap();
    let exec = compile::compile(&loaded, &Overrides::default()).unwrap();
    assert_eq!(exec.max_body, ByteSize::kib(64));
}
