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

/// The values of the variables a plan marks secret. The quote, backslash, slash and angle
/// brackets make the JSON, CSV, HTML and Markdown forms differ from the value as written.
const TOKEN: &str = r#"tok"en\42/<x>"#;
const HMAC_KEY: &str = "hmac-key-7f3a9c";

/// A secret in a header and a query, and, through a path that does not start with `/`, in
/// the failure reason every report and the stderr log show. `PLANRUN_TEST_HMAC_KEY` is
/// not listed: it is secret because it signs.
const MARKED: &str = r#"secrets: [PLANRUN_TEST_TOKEN, PLANRUN_TEST_PIN, PLANRUN_TEST_NEVER_SET]
classes:
  A:
    think-time: constant 20ms
    tasks:
      signed:
        path: /api/v1/accommodations
        query: { token: "{{ env.PLANRUN_TEST_TOKEN }}" }
        headers:
          X-Token: "{{ env.PLANRUN_TEST_TOKEN }}"
          X-Signature: "{{ hmac_sha256(env.PLANRUN_TEST_HMAC_KEY, 'x') }}"
      leaky-path:
        path: "{{ ':1/' ~ env.PLANRUN_TEST_TOKEN ~ '/' ~ env.PLANRUN_TEST_HMAC_KEY }}"
load: { users: 2, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1s }
"#;

/// Every file under `dir`, with its text.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            let text = std::fs::read_to_string(&path).unwrap();
            files.push((path, text));
        }
    }
    files
}

#[test]
fn marked_secrets_appear_in_no_report_log_or_summary() {
    let plan = write_plan("marked.yaml", MARKED);
    let dir = plan.dir.path();
    let out = dir.join("reports");
    let exports = dir.join("exports");
    let step_summary = exports.join("step-summary.md");
    let output = Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .env_remove("PLANRUN_TEST_NEVER_SET")
        .env("PLANRUN_TEST_TOKEN", TOKEN)
        .env("PLANRUN_TEST_HMAC_KEY", HMAC_KEY)
        .env("PLANRUN_TEST_PIN", "q7z")
        .env("GITHUB_STEP_SUMMARY", &step_summary)
        .arg(&plan.path)
        .args(["--sample-api", "--progress", "plain", "--out"])
        .arg(&out)
        .arg("--csv")
        .arg(exports.join("locust"))
        .arg("--html")
        .arg(exports.join("report.html"))
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .expect("run planrun");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    // The failing path reached the log, scrubbed; the short value is named, not shown.
    assert!(
        stderr.contains("does not start with `/`") && stderr.contains("`:1/[redacted]/[redacted]`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("secret `PLANRUN_TEST_PIN` is shorter than 8 bytes"),
        "{stderr}"
    );
    assert!(
        stdout.contains("[redacted]"),
        "the terminal's failures:\n{stdout}"
    );

    let mut texts = vec![
        (out.join("<stdout>"), stdout),
        (out.join("<stderr>"), stderr),
    ];
    let reports = files_under(&out);
    let exported = files_under(&exports);
    assert_eq!(reports.len(), 7, "{reports:?}");
    assert_eq!(exported.len(), 5, "3 CSVs, the HTML and the step summary");
    for (path, text) in reports.iter().chain(&exported) {
        let name = path.file_name().unwrap().to_string_lossy();
        // Every file that lists failures shows the reason, scrubbed (JUnit lists SLOs).
        // Markdown escapes the brackets: `\[redacted\]`.
        if !name.contains("stats") && name != "junit.xml" {
            let shown = text.contains("[redacted]") || text.contains(r"\[redacted\]");
            assert!(shown, "{name}:\n{text}");
        }
    }
    texts.extend(reports);
    texts.extend(exported);
    let json_token = serde_json::Value::from(TOKEN).to_string();
    let forms = [
        TOKEN,
        &json_token[1..json_token.len() - 1],
        "tok&quot;en",
        "tok\"\"en",
        r"en\\42",
        HMAC_KEY,
    ];
    for (path, text) in &texts {
        for form in forms {
            assert!(
                !text.contains(form),
                "`{form}` leaked into {}:\n{text}",
                path.display()
            );
        }
    }
}

#[test]
fn check_names_a_secret_too_short_to_scrub_without_showing_it() {
    let plan = write_plan(
        "short.yaml",
        "secrets: [PLANRUN_TEST_PIN]\nhost: http://127.0.0.1:9\n\
         classes:\n  A:\n    tasks:\n      t: { path: \"/{{ env.PLANRUN_TEST_PIN }}\" }\n\
         load: { users: 1, spawn-rate: 1/s, run-time: 1s }\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env("PLANRUN_TEST_PIN", "q7z")
        .arg("check")
        .arg(&plan.path)
        .output()
        .expect("run planrun check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "warning: secret `PLANRUN_TEST_PIN` is shorter than 8 bytes, so it is not scrubbed"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("q7z"), "{stdout}");
}
