//! planrun's own limits are not the target's faults: a run short of file descriptors
//! (here a hard limit of 256 with 1,000 users) counts the failures it caused itself as
//! `local-resources`, never as the target refusing, and says the results cannot be trusted.

use std::path::Path;

use assert_cmd::Command;
use planrun::report::{Results, json};

use crate::support::write_plan;

const USERS_OVER_THE_LIMIT: &str = r#"classes:
  A:
    think-time: constant 200ms
    tasks:
      health: { path: /api/v1/healthz }
load: { users: 1000, spawn-rate: 1000/s, run-time: 3s, graceful-stop: 1s }
timeout: 2s
"#;

/// The binary under a soft and hard open-file limit of `limit`.
fn planrun_with_open_files(limit: u32) -> Command {
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!(
            r#"ulimit -Sn {limit} && ulimit -Hn {limit} && exec "$0" "$@""#
        ))
        .arg(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .env_remove("GITHUB_STEP_SUMMARY");
    command
}

fn summary_in(out: &Path) -> Results {
    json::parse(Path::new(json::FILE), file_in(out, json::FILE).as_bytes()).unwrap()
}

/// A file of the run written under `out`.
fn file_in(out: &Path, name: &str) -> String {
    let run = std::fs::read_dir(out)
        .unwrap()
        .next()
        .expect("a run directory")
        .unwrap();
    std::fs::read_to_string(run.path().join(name)).unwrap()
}

/// Every report says the results cannot be trusted, with the reason, not the terminal
/// alone (the verdict itself stays the SLOs').
fn assert_every_report_distrusts(out: &Path) {
    let markdown = file_in(out, "summary.md");
    assert!(markdown.contains("results NOT TRUSTWORTHY"), "{markdown}");
    assert!(markdown.contains("ulimit -n"), "{markdown}");
    assert!(markdown.contains("machine: CPU pressure"), "{markdown}");
    let junit = file_in(out, "junit.xml");
    assert!(
        junit.contains(r#"<property name="trustworthy" value="false"/>"#),
        "{junit}"
    );
    assert!(junit.contains(r#"<property name="machine" value="machine: "#));
    assert!(junit.contains("results NOT TRUSTWORTHY"), "{junit}");
    assert!(junit.contains("ulimit -n"), "{junit}");
    let html = file_in(out, "report.html");
    assert!(html.contains("Results NOT TRUSTWORTHY"));
    assert!(html.contains("ulimit -n"));
}

fn assert_blames_planrun(summary: &Results) {
    let failures = &summary.failures;
    let in_category =
        |category: &'static str| failures.iter().filter(move |f| f.category == category);
    let refused: Vec<_> = in_category("connect").collect();
    assert!(refused.is_empty(), "blamed on the target: {refused:#?}");
    let local: u64 = in_category("local-resources").map(|f| f.count).sum();
    assert!(local > 0, "no failure blamed on planrun: {failures:#?}");
    let reason = &in_category("local-resources").next().unwrap().reason;
    assert!(reason.contains("ulimit -n"), "{reason}");
    assert_eq!(summary.trustworthy, Some(false));
    let reasons = summary.untrustworthy_reasons.join("\n");
    assert!(reasons.contains("256"), "{reasons}");
    assert!(reasons.contains("ulimit -n"), "{reasons}");
}

#[test]
fn a_thousand_users_on_256_files_blame_planrun_not_the_target() {
    let plan = write_plan("many.yaml", USERS_OVER_THE_LIMIT);
    let out = plan.dir.path().join("reports");
    let assert = planrun_with_open_files(256)
        .arg(&plan.path)
        .args([
            "--sample-api",
            "--progress",
            "off",
            "--no-preflight",
            "--out",
        ])
        .arg(&out)
        .timeout(std::time::Duration::from_secs(60))
        .assert();
    let output = assert.get_output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("NOT TRUSTWORTHY"), "{stdout}");
    assert!(
        !stdout.contains("connection refused or unreachable"),
        "{stdout}"
    );
    assert_blames_planrun(&summary_in(&out));
    assert_every_report_distrusts(&out);
}

#[test]
fn the_https_path_blames_planrun_too() {
    // A listener that accepts and never answers: every connection planrun opens stays
    // open, so the users run out of descriptors long before the run ends.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let plan = write_plan(
        "tls.yaml",
        &format!("host: https://127.0.0.1:{port}\n{USERS_OVER_THE_LIMIT}"),
    );
    let out = plan.dir.path().join("reports");
    // Every request fails: the exit code is the SLO-less run's, not what is tested here.
    let _ = planrun_with_open_files(256)
        .arg(&plan.path)
        .args(["--progress", "off", "--no-preflight", "--out"])
        .arg(&out)
        .timeout(std::time::Duration::from_secs(60))
        .assert();
    assert_blames_planrun(&summary_in(&out));
}

#[test]
fn check_warns_when_the_peak_exceeds_the_open_file_limit() {
    let plan = write_plan(
        "many.yaml",
        &format!("host: http://127.0.0.1:9\n{USERS_OVER_THE_LIMIT}"),
    );
    planrun_with_open_files(256)
        .arg("check")
        .arg(&plan.path)
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "the plan can hold 1000 connections at once",
        ))
        .stdout(predicates::str::contains("open-file limit is 256"));
}
