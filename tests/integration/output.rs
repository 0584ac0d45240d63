//! A closed or full stdout (`| head -1`, `> /dev/full`) ends the output quietly: the exit
//! code is still the run's own, and the reports are still written.

#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::write_plan;

/// Breaches its SLO (20ms answers, `p95 < 1ms`): the run's own code is 4.
const BREACHING: &str = r#"classes:
  A:
    think-time: constant 10ms
    tasks:
      health: { path: /api/v1/healthz }
load: { users: 2, spawn-rate: 100/s, run-time: 1s }
slos:
  - { request: health, check: p95 < 1ms }
"#;

enum Stdout {
    /// A pipe whose reading end is closed before planrun writes (`| head -0`).
    Closed,
    /// `/dev/full`: every write fails with "no space left on device".
    Full,
}

fn planrun(stdout: &Stdout) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_planrun"));
    command
        .env_remove("PLANRUN_HOST")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    match stdout {
        Stdout::Closed => command.stdout(Stdio::piped()),
        Stdout::Full => command.stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        ),
    };
    command
}

/// Runs `command` with its stdout closed at once (or full); its exit code and stderr.
fn run(mut command: Command) -> (Option<i32>, String) {
    let mut child = command.spawn().expect("start planrun");
    drop(child.stdout.take()); // closes our end of the pipe, if there is one
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("planrun still running after 60s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_reports_written(out: &Path) {
    let dirs: Vec<_> = std::fs::read_dir(out)
        .expect("reports dir")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    for file in ["summary.json", "report.html", "junit.xml", "summary.md"] {
        assert!(dirs[0].join(file).is_file(), "{file} missing");
    }
}

fn breaching_run(stdout: Stdout) {
    let plan = write_plan("slow.yaml", BREACHING);
    let out = plan.dir.path().join("reports");
    let mut command = planrun(&stdout);
    command
        .arg(&plan.path)
        .args([
            "--sample-api",
            "--sample-latency",
            "20ms",
            "--progress",
            "off",
            "--out",
        ])
        .arg(&out);
    let (code, stderr) = run(command);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_reports_written(&out);
}

#[test]
fn a_run_into_a_closed_pipe_keeps_its_exit_code_and_writes_its_reports() {
    breaching_run(Stdout::Closed);
}

#[test]
fn a_run_into_a_full_device_keeps_its_exit_code_and_writes_its_reports() {
    breaching_run(Stdout::Full);
}

#[test]
fn check_into_a_closed_pipe_or_a_full_device_keeps_its_exit_code() {
    let plans = crate::support::plans_in("plans");
    for stdout in [Stdout::Closed, Stdout::Full] {
        let mut command = planrun(&stdout);
        command.arg("check").args(&plans);
        let (code, stderr) = run(command);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
