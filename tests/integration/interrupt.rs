//! Ctrl-C during a run: the binary, sent SIGINT, stops the load, writes every result file
//! whole, prints the summary marked as interrupted and exits 130. A second SIGINT
//! abandons in-flight requests at once and still writes what was gathered. SIGTERM and
//! SIGHUP (a closed terminal or SSH session) are a first Ctrl-C; SIGQUIT (Ctrl-\) is
//! the second one at once.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use planrun::report::Results;

use crate::hostile_server::{Fault, HostileServer};
use crate::support::{results, write_plan};

const LONG_RUN: &str = r#"classes:
  A:
    think-time: constant 20ms
    tasks:
      list: { path: /api/v1/accommodations }
load: { users: 5, spawn-rate: 100/s, run-time: 5m, graceful-stop: GRACE }
"#;

fn start(plan: &Path, out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .arg(plan)
        .args(["--sample-api", "--progress", "plain", "--out"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start planrun")
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Waits for the process, killing it if it outlives `limit` (the test then fails).
fn wait_within(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("planrun still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// The one run directory under `out`, checked to hold only whole files.
fn run_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("out dir")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    for file in std::fs::read_dir(&dirs[0]).unwrap() {
        let path = file.unwrap().path();
        assert_ne!(
            path.extension().and_then(|e| e.to_str()),
            Some("tmp"),
            "a half-written file was left: {}",
            path.display()
        );
    }
    dirs[0].clone()
}

/// Requests cancelled in flight.
fn cancelled(results: &Results) -> u64 {
    let failures = results.failures.iter();
    failures
        .filter(|f| f.category == "cancelled")
        .map(|f| f.count)
        .sum()
}

#[test]
fn sigint_stops_the_run_writes_every_result_and_exits_130() {
    stops_gracefully_on("INT");
}

#[test]
fn sigterm_stops_the_run_the_same_way() {
    stops_gracefully_on("TERM");
}

#[test]
fn sighup_stops_the_run_the_same_way() {
    stops_gracefully_on("HUP");
}

fn stops_gracefully_on(name: &str) {
    let plan = write_plan("long.yaml", &LONG_RUN.replace("GRACE", "5s"));
    let out = plan.dir.path().join("reports");
    let child = start(&plan.path, &out, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, name);
    let output = wait_within(child, Duration::from_secs(15));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("(interrupted)"), "{stdout}");
    assert!(stderr.contains("stopping"), "{stderr}");

    let results = results(&run_dir(&out));
    assert!(results.run.interrupted);
    assert!(results.aggregate.count > 20, "{:?}", results.aggregate);
    assert!(results.run.duration_s < 10.0);
    assert_eq!(results.aggregate.failures, 0, "graceful: nothing cancelled");
}

#[test]
fn a_second_sigint_abandons_in_flight_requests_and_still_writes_the_results() {
    // Every answer takes 3s and the grace period is a minute: only the second SIGINT
    // can end the run quickly.
    let plan = write_plan("slow.yaml", &LONG_RUN.replace("GRACE", "1m"));
    let out = plan.dir.path().join("reports");
    let child = start(
        &plan.path,
        &out,
        &["--sample-latency", "3s", "--no-preflight"],
    );
    std::thread::sleep(Duration::from_millis(1000));
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    let output = wait_within(child, Duration::from_secs(15));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stderr.contains("stopping now"), "{stderr}");

    let results = results(&run_dir(&out));
    assert!(results.run.interrupted);
    assert_eq!(
        cancelled(&results),
        5,
        "each user's in-flight request: {:?}",
        results.failures
    );
}

#[test]
fn sigquit_stops_at_once_and_still_writes_the_results() {
    // As the second SIGINT: every answer takes 3s and the grace period is a minute.
    let plan = write_plan("slow.yaml", &LONG_RUN.replace("GRACE", "1m"));
    let out = plan.dir.path().join("reports");
    let child = start(
        &plan.path,
        &out,
        &["--sample-latency", "3s", "--no-preflight"],
    );
    std::thread::sleep(Duration::from_millis(1000));
    signal(&child, "QUIT");
    let output = wait_within(child, Duration::from_secs(15));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stderr.contains("stopping now"), "{stderr}");
    assert!(stdout.contains("(interrupted)"), "{stdout}");

    let results = results(&run_dir(&out));
    assert!(results.run.interrupted);
    assert_eq!(cancelled(&results), 5, "each user's in-flight request");
}

#[test]
fn sigint_while_the_preflight_waits_ends_the_wait() {
    let silent = HostileServer::start(Fault::Silent);
    let text = LONG_RUN.replace("GRACE", "1s");
    let plan = write_plan(
        "silent.yaml",
        &format!("host: http://{}\ntimeout: 10s\n{text}", silent.addr),
    );
    let out = plan.dir.path().join("reports");
    let child = Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .arg(&plan.path)
        .args(["--progress", "off", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start planrun");
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    signal(&child, "INT");
    let output = wait_within(child, Duration::from_secs(15));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited out the preflight"
    );
    assert_eq!(output.status.code(), Some(130));
    let results = results(&run_dir(&out));
    assert!(results.run.interrupted);
    assert_eq!(results.aggregate.count, 0, "no load was started");
}
