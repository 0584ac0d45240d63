//! Credentials written in a plan, given by `--set` or read from the environment never
//! appear in the run's output or its result files.

use assert_cmd::Command;

use crate::support::write_plan;

const PLAN: &str = r#"headers:
  Authorization: Bearer s3cret-in-plan
  X-Api-Key: "{{ env.PLANRUN_TEST_SECRET }}"
classes:
  A:
    think-time: constant 20ms
    headers: { Cookie: session=s3cret-cookie }
    tasks:
      list: { path: /api/v1/accommodations }
      missing: { path: /api/v1/nope }
load: { users: 2, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1s }
"#;

#[test]
fn credentials_stay_out_of_the_output_and_the_results() {
    let plan = write_plan("secrets.yaml", PLAN);
    let out = plan.dir.path().join("reports");
    let output = Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .env("PLANRUN_TEST_SECRET", "s3cret-from-env")
        .arg(&plan.path)
        .args(["--sample-api", "--progress", "plain"])
        .args(["--set", "headers.X-Auth-Token=s3cret-from-set", "--out"])
        .arg(&out)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .expect("run planrun");
    // The 404s make failure lines: they must not carry the headers either.
    assert_eq!(output.status.code(), Some(0));
    let mut texts = vec![
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ];
    assert!(texts[1].contains("unexpected status 404"), "{}", texts[1]);
    let run = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for file in std::fs::read_dir(run).unwrap() {
        texts.push(std::fs::read_to_string(file.unwrap().path()).unwrap());
    }
    assert!(texts[2].contains("[redacted]"), "{}", texts[2]);
    for text in &texts {
        for secret in [
            "s3cret-in-plan",
            "s3cret-cookie",
            "s3cret-from-env",
            "s3cret-from-set",
        ] {
            assert!(!text.contains(secret), "`{secret}` leaked into:\n{text}");
        }
    }
}
