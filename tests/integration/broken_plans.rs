//! The corpus of broken plans: each file in `tests/plans/broken/` holds one mistake class
//! and `NAME.expected` the exact diagnostic `planrun PLAN` prints for it (no colour).
//! Every one must exit 3, send nothing, and point at `file:line:col`.
//!
//! After an intended change of wording, `PLANRUN_BLESS=1 cargo test broken_plans`
//! rewrites the `.expected` files; review the diff.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crate::support::repo;

const CORPUS: &str = "tests/plans/broken";

fn corpus() -> Vec<PathBuf> {
    crate::support::plans_in(CORPUS)
}

/// `planrun PLAN` on a corpus plan, as CI would run it, named relative to the repository
/// so that the expected text does not depend on where the checkout lives. (Not `check`:
/// it only notes an unset environment variable, which a run must refuse.)
fn run(plan: &Path) -> (Option<i32>, String) {
    let relative = plan.strip_prefix(repo()).expect("inside the repository");
    let out = tempfile::tempdir().expect("out dir");
    let output = Command::new(env!("CARGO_BIN_EXE_planrun"))
        .current_dir(repo())
        .env_remove("PLANRUN_HOST")
        .env_remove("PLANRUN_CORPUS_NEVER_SET")
        .arg(relative)
        .args(["--progress", "off", "--out"])
        .arg(out.path())
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("run planrun");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_broken_plan_exits_3_with_its_expected_diagnostic() {
    let plans = corpus();
    assert!(plans.len() >= 30, "corpus shrank: {plans:?}");
    let bless = std::env::var_os("PLANRUN_BLESS").is_some();
    let mut mismatches = Vec::new();
    for plan in &plans {
        let (code, stderr) = run(plan);
        let name = plan.file_name().unwrap().to_string_lossy().into_owned();
        if code != Some(3) {
            mismatches.push(format!("--- {name} exited {code:?}:\n{stderr}"));
            continue;
        }
        if !has_line_col(&stderr) {
            mismatches.push(format!("--- {name}: no `{CORPUS}/…:line:col` in\n{stderr}"));
        }
        let expected_path = plan.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &stderr).expect("write .expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} is missing", expected_path.display()));
        if expected != stderr {
            mismatches.push(format!(
                "--- {name}: expected\n{expected}\n--- got\n{stderr}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// `text` names a corpus file with a line and column: `tests/plans/broken/x.yaml:3:5`
/// (for an `extends` cycle, the parent's file, where the cycle closes).
fn has_line_col(text: &str) -> bool {
    text.match_indices(CORPUS).any(|(i, _)| {
        let rest = &text[i..];
        let location: &str = rest.split([' ', ']', '\n']).next().unwrap_or_default();
        let mut parts = location.rsplitn(3, ':');
        let col = parts.next().unwrap_or_default();
        let line = parts.next().unwrap_or_default();
        let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        numeric(line) && numeric(col)
    })
}

#[test]
fn every_expected_file_has_its_plan() {
    for entry in std::fs::read_dir(repo().join(CORPUS)).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("expected") {
            let has_plan = ["yaml", "toml"]
                .iter()
                .any(|ext| path.with_extension(ext).exists());
            assert!(has_plan, "{} has no plan", path.display());
        }
    }
}

#[test]
fn a_ten_gigabyte_payload_is_refused_without_reading_it() {
    let plan = crate::support::write_plan(
        "huge.yaml",
        "host: http://127.0.0.1:8000\nclasses:\n  A:\n    tasks:\n      up:\n        method: POST\n        path: /upload\n        body-file: huge.json\nload: { users: 1, run-time: 1s }\n",
    );
    // Sparse: costs no disk, and the check must look at the size before reading.
    let file = std::fs::File::create(plan.dir.path().join("huge.json")).unwrap();
    file.set_len(10 << 30).unwrap();
    Command::new(env!("CARGO_BIN_EXE_planrun"))
        .arg("check")
        .arg(&plan.path)
        .timeout(std::time::Duration::from_secs(10))
        .assert()
        .code(3)
        .stderr(predicates::str::contains("huge.yaml:8:20"))
        .stderr(predicates::str::contains(
            "10737418240 bytes is over the 10485760-byte limit",
        ));
}

// ---------------------------------------------------------------------------------------------
// Special files: created at test time, since git cannot hold a FIFO or a link to a device.

const SMALL_PLAN: &str = "host: http://127.0.0.1:9\nclasses:\n  A:\n    tasks:\n      t: { path: /x }\nload: { users: 1, run-time: 1s }\n";

/// `planrun check PLAN`, which must end within 10 s whatever the plan names.
fn check(plan: &Path) -> (Option<i32>, String) {
    let started = std::time::Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_planrun"))
        .arg("check")
        .arg(plan)
        .timeout(std::time::Duration::from_secs(10))
        .output()
        .expect("run planrun");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "`check {}` did not end within 10 s",
        plan.display()
    );
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn assert_refused(plan: &Path, expected: &[&str]) {
    let (code, stderr) = check(plan);
    assert_eq!(code, Some(3), "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "no `{part}` in\n{stderr}");
    }
}

#[test]
fn a_plan_file_that_is_a_fifo_or_a_link_to_a_device_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    mkfifo(&fifo);
    assert_refused(
        &fifo,
        &["fifo.yaml", "it is a named pipe (FIFO), not a regular file"],
    );
    let zero = dir.path().join("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    assert_refused(
        &zero,
        &["zero.yaml", "it is a character device, not a regular file"],
    );
}

#[test]
fn files_a_plan_names_that_are_fifos_or_devices_are_refused_at_their_key() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("pipe"));
    mkfifo(&dir.path().join("parent.yaml"));
    let cases = [
        (
            "body.yaml",
            "host: http://127.0.0.1:9\nclasses:\n  A:\n    tasks:\n      t: { path: /x, method: POST, body-file: /dev/zero }\nload: { users: 1, run-time: 1s }\n",
            "body.yaml:5:47",
            "it is a character device, not a regular file",
        ),
        (
            "body-fifo.yaml",
            "host: http://127.0.0.1:9\nclasses:\n  A:\n    tasks:\n      t: { path: /x, method: POST, body-file: pipe }\nload: { users: 1, run-time: 1s }\n",
            "body-fifo.yaml:5:47",
            "it is a named pipe (FIFO), not a regular file",
        ),
        (
            "data.yaml",
            "host: http://127.0.0.1:9\ndata:\n  users: { file: pipe }\nclasses:\n  A:\n    tasks:\n      t: { path: /x }\nload: { users: 1, run-time: 1s }\n",
            "data.yaml:3:18",
            "it is a named pipe (FIFO), not a regular file",
        ),
        (
            "extends.yaml",
            "extends: parent.yaml\nhost: http://127.0.0.1:9\nclasses:\n  A:\n    tasks:\n      t: { path: /x }\nload: { users: 1, run-time: 1s }\n",
            "extends.yaml:1:10",
            "it is a named pipe (FIFO), not a regular file",
        ),
    ];
    for (name, text, at, reason) in cases {
        let plan = dir.path().join(name);
        std::fs::write(&plan, text).unwrap();
        assert_refused(&plan, &[at, reason]);
    }
}

#[test]
fn a_plan_file_over_4_mib_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("big.yaml");
    let mut text = SMALL_PLAN.to_owned();
    text.push_str(&format!("# {}\n", "x".repeat(4 << 20)));
    std::fs::write(&plan, &text).unwrap();
    assert_refused(
        &plan,
        &[
            "big.yaml",
            &format!(
                "{} bytes is over the 4194304-byte limit for a plan file",
                text.len()
            ),
        ],
    );
    // Just under the limit still loads.
    std::fs::write(&plan, SMALL_PLAN).unwrap();
    assert_eq!(check(&plan).0, Some(0));
}

#[test]
fn nesting_100000_levels_deep_is_refused_in_milliseconds() {
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000;
    let cases = [
        ("seq.yaml", format!("a: {}{}", "[".repeat(n), "]".repeat(n))),
        (
            "map.yaml",
            format!("a: {}1{}", "{a: ".repeat(n), "}".repeat(n)),
        ),
        ("block.yaml", format!("{}x\n", "- ".repeat(n))),
    ];
    for (name, text) in cases {
        let plan = dir.path().join(name);
        std::fs::write(&plan, text).unwrap();
        let started = std::time::Instant::now();
        assert_refused(&plan, &[name, "nesting deeper than 64 levels"]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{name}: {:?}",
            started.elapsed()
        );
    }
}

/// Every key given a value of every wrong type: no message names a Rust type.
#[test]
fn no_type_message_names_a_rust_type() {
    use serde_json::{Value, json};
    let base = json!({
        "host": "http://127.0.0.1:9",
        "classes": { "A": { "tasks": { "t": {
            "path": "/x", "extract": { "x": { "json": "$.a" } },
            "checks": [{ "status": 200 }], "outcomes": { "ok": "true" },
        } } } },
        "load": { "users": 1, "run-time": "1s" },
        "metrics": { "m": { "rate": "t.ok" } },
        "slos": ["p95 < 1s"],
    });
    let paths: &[&[&str]] = &[
        &["name"],
        &["host"],
        &["headers"],
        &["timeout"],
        &["max-body"],
        &["seed"],
        &["vars"],
        &["classes"],
        &["classes", "A"],
        &["classes", "A", "weight"],
        &["classes", "A", "think-time"],
        &["classes", "A", "headers"],
        &["classes", "A", "on-start"],
        &["classes", "A", "tasks"],
        &["classes", "A", "tasks", "t"],
        &["classes", "A", "tasks", "t", "path"],
        &["classes", "A", "tasks", "t", "query"],
        &["classes", "A", "tasks", "t", "expect-status"],
        &["classes", "A", "tasks", "t", "extract"],
        &["classes", "A", "tasks", "t", "extract", "x"],
        &["classes", "A", "tasks", "t", "checks"],
        &["classes", "A", "tasks", "t", "steps"],
        &["load"],
        &["load", "users"],
        &["load", "spawn-rate"],
        &["load", "run-time"],
        &["load", "stages"],
        &["load", "rate"],
        &["load", "bursts"],
        &["load", "recovery"],
        &["data"],
        &["data", "d"],
        &["metrics"],
        &["metrics", "m"],
        &["metrics", "m", "rate"],
        &["slos"],
        &["preflight"],
        &["secrets"],
    ];
    let wrong = [
        json!([[1]]),
        json!({"zz": {"y": 1}}),
        json!("x"),
        json!(-5),
        json!(1.5),
        json!(true),
        Value::Null,
    ];
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    let rust_words = [
        "Raw",
        "enum",
        "struct",
        "i64",
        "u64",
        "f64",
        "Scalar",
        "OneOrMany",
        "variant",
    ];
    for path in paths {
        for value in &wrong {
            let mut doc = base.clone();
            let mut slot = &mut doc;
            for key in *path {
                if !slot.is_object() {
                    *slot = json!({});
                }
                slot = slot
                    .as_object_mut()
                    .unwrap()
                    .entry(key.to_string())
                    .or_insert(Value::Null);
            }
            *slot = value.clone();
            std::fs::write(&plan, planrun::plan::to_yaml(&doc)).unwrap();
            let Err(errors) = planrun::plan::load(&plan, &[]) else {
                continue;
            };
            let text = errors.to_string();
            for word in rust_words {
                assert!(!text.contains(word), "{path:?} = {value}: {text}");
            }
        }
    }
}

/// 4 MiB of tiny values took 680 MB to load: the number of values is bounded too.
#[test]
fn a_plan_of_too_many_values_is_refused_before_it_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = SMALL_PLAN.to_owned() + "vars:\n";
    let mut toml = "host = \"http://127.0.0.1:9\"\n[vars]\n".to_owned();
    for i in 0..20_000 {
        yaml.push_str(&format!("  v{i}: [1, 2, abc, {{a: 1}}]\n"));
        toml.push_str(&format!("v{i} = [1, 2, \"abc\", {{a = 1}}]\n"));
    }
    for (name, text) in [("many.yaml", yaml), ("many.toml", toml)] {
        let plan = dir.path().join(name);
        std::fs::write(&plan, text).unwrap();
        assert_refused(
            &plan,
            &[name, "the plan file holds more than 100000 values"],
        );
    }
}
