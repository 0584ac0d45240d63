//! Preflight: which request is chosen, what counts as answering, and a run against a
//! port where nothing listens stopping before the load with exit code 5.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use planrun::compile::PreflightOrigin;
use planrun::engine::{FakeTransport, preflight};
use planrun::exit_code;
use predicates::prelude::*;

use crate::support::{compile_text, write_plan};

const TASKS: &str = r#"host: http://127.0.0.1:8000
classes:
  A:
    tasks:
      list: { path: /api/v1/accommodations }
      health: { path: /api/v1/healthz, query: { deep: "1" }, headers: { X-Probe: yes }, expect-status: 200 }
load: { users: 1, run-time: 1s }
"#;

#[test]
fn a_health_check_task_is_the_preflight_with_its_query_headers_and_statuses() {
    let exec = compile_text(TASKS);
    let check = &exec.preflight;
    assert_eq!(check.origin, PreflightOrigin::HealthCheck("health".into()));
    assert_eq!(check.path, "/api/v1/healthz?deep=1");
    assert_eq!(check.headers["x-probe"], "yes");
    assert_eq!(
        check.expect.as_ref().map(ToString::to_string),
        Some("200".into())
    );
}

#[test]
fn a_declared_preflight_wins_and_without_a_health_check_the_root_is_asked() {
    let declared = compile_text(&format!("preflight: /ready\n{TASKS}"));
    assert_eq!(declared.preflight.origin, PreflightOrigin::Declared);
    assert_eq!(declared.preflight.path, "/ready");

    // A templated health path cannot be sent before any user exists: not chosen.
    let templated = TASKS.replace("/api/v1/healthz", "\"/api/{{ user_id }}/healthz\"");
    let root = compile_text(&templated);
    assert_eq!(root.preflight.origin, PreflightOrigin::HostRoot);
    assert_eq!(root.preflight.path, "/");
    assert!(
        root.preflight.expect.is_none(),
        "any answer from the root will do"
    );
}

#[tokio::test(start_paused = true)]
async fn a_health_check_must_answer_with_an_accepted_status_the_root_with_any() {
    let exec = compile_text(TASKS);
    let unhealthy = FakeTransport::new(Duration::from_millis(5), |_| Ok(503));
    let error = preflight(&exec, &unhealthy).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "preflight failed: `GET http://127.0.0.1:8000/api/v1/healthz?deep=1` \
         (health check `health`) answered 503, expected 200"
    );
    assert_eq!(
        unhealthy.sent().values().sum::<u64>(),
        1,
        "exactly one request"
    );

    let root = compile_text(&TASKS.replace("health:", "other:").replace("healthz", "x"));
    let not_found = FakeTransport::new(Duration::from_millis(5), |_| Ok(404));
    preflight(&root, &not_found)
        .await
        .expect("a 404 proves the target answers");
}

#[test]
fn a_run_against_a_port_where_nothing_listens_stops_at_preflight() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let plan = write_plan(
        "closed.yaml",
        &TASKS
            .replace("127.0.0.1:8000", &format!("127.0.0.1:{closed}"))
            .replace("run-time: 1s", "run-time: 10m"),
    );
    let started = Instant::now();
    Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .arg(&plan.path)
        .args(["--progress", "off", "--out"])
        .arg(plan.dir.path().join("reports"))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(i32::from(exit_code::PREFLIGHT_FAILED))
        .stderr(predicate::str::contains(format!(
            "`GET http://127.0.0.1:{closed}/api/v1/healthz?deep=1` (health check `health`) \
             got no answer: connect"
        )))
        .stderr(predicate::str::contains(format!(
            "the target at `http://127.0.0.1:{closed}` does not answer"
        )))
        .stderr(predicate::str::contains("--no-preflight"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "not the 10m run"
    );
    assert!(
        !plan.dir.path().join("reports").exists(),
        "no run, no report"
    );
}
