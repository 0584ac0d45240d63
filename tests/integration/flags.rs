//! Run flags (`-u -r -t --host --set --seed`): they obey the plan's limits, errors name
//! the flag, the plan as run shows them, and the command line is recorded.

use predicates::prelude::*;

use crate::cli::planrun;
use crate::support::{repo, results, write_plan};

/// A valid plan whose host line is on line 1: an error blamed on it would say `:1:7`.
const MINI: &str = r#"host: http://127.0.0.1:1
classes:
  A:
    think-time: constant 10ms
    tasks:
      health: { path: /api/v1/healthz }
load: { users: 2, spawn-rate: 100/s, run-time: 1s }
"#;

const STAGED: &str = r#"classes:
  A:
    think-time: constant 10ms
    tasks:
      health: { path: /api/v1/healthz }
load:
  stages:
    - { users: 4, duration: 30s }
    - { users: 0, duration: 30s }
"#;

fn stderr_of(args: &[&str], plan: &std::path::Path) -> (Option<i32>, String) {
    let output = planrun().arg(plan).args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn users_beyond_the_plan_limit_are_refused_as_the_flag() {
    let plan = write_plan("mini.yaml", MINI);
    for args in [["-u", "200000"], ["-u", "0"]] {
        let (code, stderr) = stderr_of(&args, &plan.path);
        assert_eq!(code, Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("--users"), "{args:?}: {stderr}");
        assert!(stderr.contains("100000"), "{args:?}: {stderr}");
        assert!(!stderr.contains("mini.yaml:"), "{args:?}: {stderr}");
    }
    // The plan's own limit, for comparison.
    let (code, stderr) = stderr_of(&["--set", "load.users=200000"], &plan.path);
    assert_eq!(code, Some(3), "{stderr}");
}

#[test]
fn a_host_flag_without_a_scheme_names_the_flag_and_suggests_one() {
    let plan = write_plan("mini.yaml", MINI);
    let (code, stderr) = stderr_of(&["--host", "127.0.0.1:9"], &plan.path);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("--host"), "{stderr}");
    assert!(
        stderr.contains("did you mean `http://127.0.0.1:9`?"),
        "{stderr}"
    );
    assert!(!stderr.contains("mini.yaml:1:7"), "{stderr}");
}

#[test]
fn a_zero_run_time_flag_names_the_flag_not_the_load_block() {
    let plan = write_plan("mini.yaml", MINI);
    let (code, stderr) = stderr_of(&["-t", "0s"], &plan.path);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("--run-time"), "{stderr}");
    assert!(!stderr.contains("mini.yaml:"), "{stderr}");
}

#[test]
fn a_spawn_rate_flag_on_an_arrival_rate_plan_is_refused_as_the_flag() {
    let plan = write_plan(
        "open.yaml",
        &MINI.replace(
            "load: { users: 2, spawn-rate: 100/s, run-time: 1s }",
            "load: { rate: 10/s, run-time: 1s }",
        ),
    );
    let (code, stderr) = stderr_of(&["-r", "5"], &plan.path);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("--spawn-rate"), "{stderr}");
}

#[test]
fn planrun_host_in_the_environment_breaks_no_subcommand() {
    let plans = crate::support::plans_in("plans");
    planrun()
        .env("PLANRUN_HOST", "http://127.0.0.1:9")
        .arg("check")
        .args(&plans)
        .assert()
        .code(0);
    planrun()
        .env("PLANRUN_HOST", "http://127.0.0.1:9")
        .arg("--help")
        .assert()
        .code(0);
    // A bad value is named by the variable.
    let plan = write_plan("mini.yaml", MINI);
    planrun()
        .env("PLANRUN_HOST", "127.0.0.1:9")
        .arg("check")
        .arg(&plan.path)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("PLANRUN_HOST"))
        .stderr(predicate::str::contains(
            "did you mean `http://127.0.0.1:9`?",
        ));
}

#[test]
fn check_accepts_the_run_flags_and_shows_their_effect() {
    let plan = write_plan("mini.yaml", MINI);
    planrun()
        .arg("check")
        .arg(&plan.path)
        .args(["-u", "7", "-r", "7", "-t", "10s", "--host"])
        .arg("http://127.0.0.1:9")
        .args(["--set", "timeout=2s", "--seed", "3"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("users at peak: 7"));
    planrun()
        .arg("check")
        .arg(&plan.path)
        .args(["-u", "200000"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--users"));
}

#[test]
fn a_run_time_flag_without_a_unit_suggests_one() {
    for (value, hint) in [("5", "5s"), ("5 minutes", "5m"), ("5min", "5m")] {
        planrun()
            .args(["plan.yaml", "-t", value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("did you mean `{hint}`?")));
    }
}

#[test]
fn a_missing_plan_file_is_a_usage_error_naming_it() {
    for subcommand in [None, Some("check")] {
        let mut command = planrun();
        if let Some(name) = subcommand {
            command.arg(name);
        }
        command
            .arg("no-such-plan.yaml")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("no-such-plan.yaml"));
    }
}

#[test]
fn a_json_value_in_set_read_as_a_map_says_to_quote_it() {
    let plan = write_plan("mini.yaml", MINI);
    planrun()
        .arg("check")
        .arg(&plan.path)
        .args(["--set", r#"classes.A.tasks.health.path={"a":1}"#])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("quote"));
}

fn only_run_dir(out: &std::path::Path) -> std::path::PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

#[test]
fn the_plan_as_run_shows_every_flag_and_the_command_line_is_recorded() {
    let plan = write_plan("staged.yaml", STAGED);
    let out = plan.dir.path().join("reports");
    planrun()
        .arg(&plan.path)
        .args([
            "-u",
            "3",
            "-r",
            "50",
            "-t",
            "1s",
            "--seed",
            "5",
            "--strict",
            "--threads",
            "1",
            "--sample-api",
            "--progress",
            "off",
            "--set",
            "timeout=2s",
            "--out",
        ])
        .arg(&out)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(0);
    let dir = only_run_dir(&out);
    let results = results(&dir);
    // `plan.resolved` is the plan as run, kept as the JSON it is in the file.
    let resolved = &results.plan.resolved;
    assert_eq!(resolved["load"]["users"], 3, "{resolved}");
    assert_eq!(resolved["load"]["spawn-rate"], "50/s", "{resolved}");
    assert_eq!(resolved["load"]["run-time"], "1s", "{resolved}");
    assert!(resolved["load"].get("stages").is_none(), "{resolved}");
    assert_eq!(resolved["seed"], 5, "{resolved}");
    assert_eq!(resolved["timeout"], "2s", "{resolved}");
    assert_eq!(results.plan.seed, 5);
    let command = results.plan.command.as_deref().expect("plan.command");
    for part in [
        "staged.yaml",
        "-u 3",
        "-r 50",
        "-t 1s",
        "--seed 5",
        "--strict",
        "--threads 1",
        "--set timeout=2s",
    ] {
        assert!(command.contains(part), "{part} not in {command}");
    }
    for file in ["report.html", "summary.md"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.contains("-u 3 -r 50 -t 1s"), "{file}: command missing");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("users: 3"), "the plan as run in report.html");
}

#[test]
fn the_peak_plan_with_flags_records_the_load_that_ran() {
    // The issue's own command: `planrun plans/peak.yaml -u 50 -r 10 -t 30s` (checked,
    // not run: the reports' `plan.resolved` is `ExecPlan::resolved`).
    let exec = {
        let loaded = planrun::plan::load(&repo().join("plans/peak.yaml"), &[]).unwrap();
        planrun::compile::compile(
            &loaded,
            &planrun::compile::Overrides {
                users: Some(50),
                spawn_rate: Some(planrun::units::Rate::parse("10/s").unwrap()),
                run_time: Some(std::time::Duration::from_secs(30)),
                host: Some("http://127.0.0.1:9".into()),
                lenient_env: true, // its webhook secrets are not set here
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let load = &exec.resolved["load"];
    assert_eq!(load["users"], 50, "{load}");
    assert_eq!(load["spawn-rate"], "10/s", "{load}");
    assert_eq!(load["run-time"], "30s", "{load}");
}
