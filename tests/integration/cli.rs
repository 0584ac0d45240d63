//! The binary as CI calls it: exit codes and where errors point.

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::{repo, results, write_plan};

pub fn planrun() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_planrun"));
    command.env_remove("PLANRUN_HOST");
    // Runs append their summary there: tests must not write into a real CI job's page.
    command.env_remove("GITHUB_STEP_SUMMARY");
    command
}

const VALID: &str = r#"classes:
  A:
    think-time: constant 10ms
    tasks:
      health: { path: /api/v1/healthz }
load: { users: 2, spawn-rate: 100/s, run-time: 1s }
"#;

#[test]
fn a_misspelt_key_exits_3_with_file_line_col_and_the_expected_keys() {
    let plan = write_plan("typo.yaml", &VALID.replace("think-time", "thinktime"));
    planrun()
        .arg(&plan.path)
        .arg("--sample-api")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("typo.yaml:3:5"))
        .stderr(predicate::str::contains("unknown key `thinktime`"))
        .stderr(predicate::str::contains("`think-time`"))
        .stderr(predicate::str::contains("did you mean `think-time`?"));
}

#[test]
fn an_undefined_template_variable_exits_3_before_sending() {
    let plan = write_plan(
        "undefined.yaml",
        &VALID.replace("/api/v1/healthz", "\"/api/{{ nope }}\""),
    );
    planrun()
        .arg(&plan.path)
        .arg("--sample-api")
        .args(["--out"])
        .arg(plan.dir.path().join("reports"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("undefined.yaml:5:23"))
        .stderr(predicate::str::contains("undefined variable `nope`"));
    // Nothing ran, so no report was written.
    assert!(!plan.dir.path().join("reports").exists());
}

#[test]
fn a_plan_that_extends_itself_exits_3() {
    let plan = write_plan("loop.yaml", &format!("extends: loop.yaml\n{VALID}"));
    planrun()
        .arg("check")
        .arg(&plan.path)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("loop.yaml:1:10"))
        .stderr(predicate::str::contains("`extends` forms a cycle"));
}

#[test]
fn a_breached_slo_exits_4_and_names_it() {
    let plan = write_plan(
        "slow.yaml",
        &format!("{VALID}slos:\n  - {{ request: health, check: p95 < 1ms }}\n"),
    );
    planrun()
        .arg(&plan.path)
        .args([
            "--sample-api",
            "--sample-latency",
            "20ms",
            "--progress",
            "off",
            "--out",
        ])
        .arg(plan.dir.path().join("reports"))
        .assert()
        .code(4)
        .stdout(predicate::str::contains("FAIL  health: p95 < 1ms"))
        .stdout(predicate::str::is_match(r"measured \d+(\.\d+)?ms").unwrap());
}

#[test]
fn a_bad_flag_value_is_a_usage_error() {
    planrun()
        .args(["plan.yaml", "-t", "5 minutes"])
        .assert()
        .code(2);
    planrun()
        .args(["plan.yaml", "--threads", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threads"));
}

#[test]
fn the_example_plans_all_compile_and_show_the_mix() {
    let plans = crate::support::plans_in("plans");
    assert!(plans.len() >= 6, "{plans:?}");
    let output = planrun()
        .arg("check")
        .args(&plans)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&output);
    assert!(text.contains("users at peak: 100"), "{text}");
    for class in [
        "ReservationUser",
        "WhatsAppWebhookUser",
        "MercadoPagoWebhookUser",
    ] {
        assert!(text.contains(class), "{class} missing");
    }
    assert!(
        text.contains("70 users (70.0%)")
            && text.contains("20 users (20.0%)")
            && text.contains("10 users (10.0%)"),
        "{text}"
    );
    // peak.yaml's users think: one worker thread; spike.yaml releases bursts: every core.
    assert!(
        text.contains("engine: 1 worker thread (the plan offers at most 43 req/s"),
        "{text}"
    );
    assert!(
        text.contains("users without think time, or bursts"),
        "{text}"
    );
}

#[test]
fn the_smoke_plan_runs_end_to_end_and_writes_its_results() {
    let out = tempfile::tempdir().unwrap();
    planrun()
        .current_dir(repo())
        .args([
            "plans/smoke.yaml",
            "--sample-api",
            "--progress",
            "plain",
            "--out",
        ])
        .arg(out.path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Aggregated"))
        .stdout(predicate::str::contains("PASS"))
        .stderr(predicate::str::contains("users"));
    let runs: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(runs.len(), 1);
    let results = results(&runs[0].as_ref().unwrap().path());
    assert!(results.passed);
    assert!(results.aggregate.count > 100);
}

const POSTS_BODY: &str = r#"host: http://127.0.0.1:1
classes:
  A:
    tasks:
      post:
        method: POST
        path: /api/v1/webhooks/whatsapp
        body: '{"user": {{ user_id }},}'
load: { users: 1, run-time: 1s }
"#;

#[test]
fn a_json_body_that_renders_to_invalid_json_exits_3() {
    let plan = write_plan("json.yaml", POSTS_BODY);
    planrun()
        .arg("check")
        .arg(&plan.path)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("json.yaml:8:15"))
        .stderr(predicate::str::contains(
            "body is not valid JSON once rendered",
        ));
}

#[test]
fn a_body_with_another_content_type_is_not_held_to_json() {
    let text = POSTS_BODY.replace(
        "        body:",
        "        headers: { Content-Type: text/plain }\n        body:",
    );
    let plan = write_plan("text.yaml", &text);
    planrun().arg("check").arg(&plan.path).assert().code(0);
}
