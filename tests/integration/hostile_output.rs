//! No output attacks its reader: plan diagnostics that quote a file never show the value
//! of a variable the plan marks secret (a file named by `extends` may hold it: an
//! environment file, a copied configuration).

use predicates::prelude::*;

use crate::support::write_plan;

const SECRET: &str = "s3cr3t-t0ken-value";

fn planrun() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_planrun"));
    command
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("PLANRUN_TEST_API_TOKEN", SECRET);
    command
}

/// `child.yaml` extends `base.yaml` (written as `base`), marking the token secret.
fn plans(base: &str) -> crate::support::PlanFile {
    let child = write_plan(
        "child.yaml",
        "extends: base.yaml\nsecrets: [PLANRUN_TEST_API_TOKEN]\nname: child\n",
    );
    std::fs::write(child.dir.path().join("base.yaml"), base).unwrap();
    child
}

fn assert_scrubbed(child: &crate::support::PlanFile, subcommand: &[&str]) {
    let mut command = planrun();
    command.args(subcommand).arg(&child.path);
    if subcommand == ["run"] {
        command
            .args(["--progress", "off", "--out"])
            .arg(child.dir.path().join("reports"));
    }
    let output = command
        .assert()
        .code(3)
        .stderr(predicate::str::contains("base.yaml:"))
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains(SECRET),
        "the secret was printed:\n{stderr}"
    );
    assert!(
        !stderr.contains("t0ken"),
        "part of the secret was printed:\n{stderr}"
    );
}

#[test]
fn a_syntax_error_in_an_extended_file_does_not_quote_a_secret() {
    // An environment file named by mistake: not YAML at its second line.
    let child = plans(&format!(
        "API_URL: http://x\nAPI_TOKEN: [{SECRET}\nOTHER: 1\n"
    ));
    assert_scrubbed(&child, &["check"]);
}

#[test]
fn a_wrong_value_in_an_extended_file_does_not_quote_a_secret() {
    let child = plans(&format!(
        "host: http://127.0.0.1:9\nload: {{ users: {SECRET} }}\n"
    ));
    assert_scrubbed(&child, &["check"]);
    assert_scrubbed(&child, &["run"]);
}
