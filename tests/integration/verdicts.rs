//! One verdict, everywhere: a run in each verdict state (pass, warn, warn under
//! `--strict`, fail) against the sample API on 127.0.0.1, and every place the verdict
//! shows (exit code, terminal, summary.json, report.html, junit.xml, summary.md, and
//! `planrun report` re-rendering them) says the same thing. And a latency SLO over
//! requests that never got a response fails instead of passing on their failure times.

use std::path::{Path, PathBuf};
use std::time::Duration;

use planrun::report::Status;

use crate::cli::planrun;
use crate::support::{results, write_plan};

/// 2 users for 1s against `/api/v1/healthz`, with `slo` as the plan's only SLO.
fn plan(slo: &str) -> String {
    format!(
        r#"classes:
  A:
    think-time: constant 10ms
    tasks:
      health: {{ path: /api/v1/healthz }}
load: {{ users: 2, spawn-rate: 100/s, run-time: 1s }}
slos:
  - {slo}
"#
    )
}

/// What every output must say in one verdict state.
struct Expected {
    code: i32,
    /// `summary.json`'s `verdict.status` and the SLO's own `status`.
    status: Status,
    slo_status: Status,
    strict: bool,
    /// The word reports lead with.
    word: &'static str,
    emoji: &'static str,
    junit_failures: usize,
    junit_skipped: usize,
}

/// The run directory the run wrote (the only one under `out`).
fn run_dir(out: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("reports")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.remove(0)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The terminal's verdict line: `PASSED: …`, `WARNING: …` or `FAILED: …`.
fn verdict_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| {
            ["PASSED: ", "WARNING: ", "FAILED: "]
                .iter()
                .any(|w| l.starts_with(w))
        })
        .unwrap_or_else(|| panic!("no verdict line in:\n{stdout}"))
}

/// A status as `summary.json` and report.html's classes write it.
fn lowercase(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Warn => "warn",
        Status::Fail => "fail",
    }
}

fn check_files(dir: &Path, expected: &Expected, state: &str) {
    let results = results(dir);
    assert_eq!(
        results.verdict.status, expected.status,
        "{state}: {results:#?}"
    );
    assert_eq!(results.verdict.strict, expected.strict, "{state}");
    assert_eq!(results.passed, expected.status != Status::Fail, "{state}");
    assert_eq!(results.slos[0].status, expected.slo_status, "{state}");
    assert_eq!(
        i32::from(results.verdict.exit_code),
        expected.code,
        "{state}: summary.json records the exit code"
    );

    let html = read(dir, "report.html");
    assert!(
        html.contains(&format!("<div class=\"word\">{}</div>", expected.word)),
        "{state}: report.html does not say {}",
        expected.word
    );
    assert!(
        html.contains(&format!(
            "<div class=\"verdict {}\">",
            lowercase(expected.status)
        )),
        "{state}: report.html's verdict box is not `{}`",
        lowercase(expected.status)
    );

    let junit = read(dir, "junit.xml");
    assert!(
        junit.contains(&format!(
            "failures=\"{}\" errors=\"0\" skipped=\"{}\"",
            expected.junit_failures, expected.junit_skipped
        )),
        "{state}: {junit}"
    );
    assert_eq!(
        junit.matches("<failure ").count(),
        expected.junit_failures,
        "{state}"
    );
    assert_eq!(
        junit.matches("<skipped ").count(),
        expected.junit_skipped,
        "{state}"
    );
    if expected.slo_status == Status::Warn {
        // The missed target says so, with what was measured, wherever it is shown.
        assert!(junit.contains("message=\"WARN"), "{state}: {junit}");
        assert!(junit.contains("<system-out>WARN"), "{state}: {junit}");
    }

    let md = read(dir, "summary.md");
    let heading = md.lines().next().unwrap_or_default();
    assert!(
        heading.starts_with(&format!("## {} {}", expected.emoji, expected.word)),
        "{state}: {heading}"
    );
}

#[test]
fn every_output_says_the_same_verdict_in_each_state() {
    let target = r#"{ target: "p95 < 1us", critical: "p95 < 10s" }"#;
    let states = [
        (
            "pass",
            plan("{ critical: \"p95 < 10s\" }"),
            false,
            Expected {
                code: 0,
                status: Status::Pass,
                slo_status: Status::Pass,
                strict: false,
                word: "PASSED",
                emoji: "✅",
                junit_failures: 0,
                junit_skipped: 0,
            },
        ),
        (
            "warn",
            plan(target),
            false,
            Expected {
                code: 0,
                status: Status::Warn,
                slo_status: Status::Warn,
                strict: false,
                word: "WARNING",
                emoji: "⚠️",
                junit_failures: 0,
                junit_skipped: 1,
            },
        ),
        (
            "warn+strict",
            plan(target),
            true,
            Expected {
                code: 4,
                status: Status::Fail,
                slo_status: Status::Warn,
                strict: true,
                word: "FAILED",
                emoji: "❌",
                junit_failures: 1,
                junit_skipped: 0,
            },
        ),
        (
            "fail",
            plan("{ critical: \"p95 < 1us\" }"),
            false,
            Expected {
                code: 4,
                status: Status::Fail,
                slo_status: Status::Fail,
                strict: false,
                word: "FAILED",
                emoji: "❌",
                junit_failures: 1,
                junit_skipped: 0,
            },
        ),
    ];
    for (state, text, strict, expected) in states {
        let plan = write_plan("verdict.yaml", &text);
        let out = plan.dir.path().join("reports");
        let mut command = planrun();
        command
            .arg(&plan.path)
            .args(["--sample-api", "--progress", "off", "--out"])
            .arg(&out)
            .timeout(Duration::from_secs(60));
        if strict {
            command.arg("--strict");
        }
        let output = command.output().expect("planrun runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert_eq!(
            output.status.code(),
            Some(expected.code),
            "{state}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = verdict_line(&stdout);
        assert!(
            line.starts_with(&format!("{}: ", expected.word)),
            "{state}: {line}"
        );
        if strict {
            assert!(line.contains("--strict"), "{state}: {line}");
        }
        let slo_line = format!(
            "{}  all requests: p95 < ",
            lowercase(expected.slo_status).to_uppercase()
        );
        assert!(stdout.contains(&slo_line), "{state}: {stdout}");

        let dir = run_dir(&out);
        check_files(&dir, &expected, state);

        // `planrun report` renders the same verdict again, from summary.json alone.
        let again = plan.dir.path().join("again");
        let rerendered = planrun()
            .arg("report")
            .arg(dir.join("summary.json"))
            .arg("--out")
            .arg(&again)
            .output()
            .expect("planrun report runs");
        assert_eq!(rerendered.status.code(), Some(0), "{state}");
        let restdout = String::from_utf8_lossy(&rerendered.stdout).into_owned();
        assert_eq!(verdict_line(&restdout), line, "{state}");
        check_files(&again, &expected, &format!("{state}, re-rendered"));
        for name in ["report.html", "junit.xml", "summary.md"] {
            assert_eq!(read(&dir, name), read(&again, name), "{state}: {name}");
        }
    }
}

/// A port on 127.0.0.1 that refuses connections: bound, then closed.
fn refusing_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[test]
fn a_latency_slo_over_refused_requests_fails() {
    let plan = write_plan(
        "refused.yaml",
        &format!(
            r#"host: http://127.0.0.1:{}
classes:
  A:
    think-time: constant 50ms
    tasks:
      health: {{ path: /api/v1/healthz }}
load: {{ users: 1, spawn-rate: 100/s, run-time: 1s }}
slos:
  - {{ request: health, check: p95 < 200ms }}
  - {{ request: health, check: max < 10s }}
"#,
            refusing_port()
        ),
    );
    let out = plan.dir.path().join("reports");
    let output = planrun()
        .arg(&plan.path)
        .args(["--no-preflight", "--progress", "off", "--out"])
        .arg(&out)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("planrun runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(4), "{stdout}");
    let results = results(&run_dir(&out));
    let requests = results.requests[0].count;
    assert!(requests > 0, "{results:#?}");
    assert_eq!(results.requests[0].failures, requests);
    for slo in &results.slos {
        assert_eq!(slo.status, Status::Fail, "{slo:#?}");
        assert_eq!(slo.measured, None, "{slo:#?}");
        assert_eq!(slo.measured_text, "no successful responses", "{slo:#?}");
        assert_eq!(slo.responses, Some(0), "{slo:#?}");
    }
    assert!(stdout.contains("FAIL  health: p95 < 200ms"), "{stdout}");
    assert!(stdout.contains("no successful responses"), "{stdout}");
}
