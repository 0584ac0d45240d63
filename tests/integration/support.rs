//! Helpers: write a plan into a temporary directory, load and compile it.

use std::path::{Path, PathBuf};

use planrun::compile::{self, ExecPlan, Overrides};
use planrun::engine::StopSignal;
use planrun::report::progress::ProgressMode;
use planrun::report::{Results, json};
use planrun::sample_api::SampleApiConfig;
use planrun::{Outcome, RunOptions};
use tempfile::TempDir;

use crate::schema_check::assert_valid_summary;

/// A plan written to a temporary directory (kept alive as long as this is).
pub struct PlanFile {
    pub dir: TempDir,
    pub path: PathBuf,
}

pub fn write_plan(name: &str, text: &str) -> PlanFile {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write plan");
    PlanFile { dir, path }
}

pub fn compile_text(text: &str) -> ExecPlan {
    let file = write_plan("plan.yaml", text);
    let loaded = planrun::plan::load(&file.path, &[]).unwrap_or_else(|e| panic!("{e}"));
    compile::compile(&loaded, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The repository's root, for its `plans/`.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a plan through `planrun::run` against the in-process sample API; the outcome and
/// the report directory's parent (kept alive as long as it is).
pub async fn run_plan(text: &str, overrides: Overrides) -> (Outcome, TempDir) {
    run_plan_with(text, overrides, SampleApiConfig::default()).await
}

/// `run_plan` with a sample API configured as given.
pub async fn run_plan_with(
    text: &str,
    overrides: Overrides,
    sample_api: SampleApiConfig,
) -> (Outcome, TempDir) {
    let file = write_plan("plan.yaml", text);
    let out = tempfile::tempdir().expect("out dir");
    let outcome = run(RunOptions {
        overrides,
        sample_api: Some(sample_api),
        ..options(file.path.clone(), out.path().to_path_buf())
    })
    .await;
    (outcome, out)
}

/// Runs a plan against its own `host` (a server the test started), seed 1, no preflight.
pub async fn run_on_own_host(text: &str) -> (Outcome, TempDir) {
    let file = write_plan("plan.yaml", text);
    let out = tempfile::tempdir().expect("out dir");
    let outcome = run(RunOptions {
        sample_api: None,
        preflight: false,
        overrides: Overrides {
            seed: Some(1),
            ..Overrides::default()
        },
        ..options(file.path.clone(), out.path().to_path_buf())
    })
    .await;
    (outcome, out)
}

/// `planrun check PLAN` as CI runs it (without `PLANRUN_HOST`): its exit code and stderr.
pub fn check_file(plan: &std::path::Path) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .arg("check")
        .arg(plan)
        .output()
        .expect("planrun runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A run of `plan` against the in-process sample API with its defaults, results under
/// `out`, no progress display: tests change what they need with `..options(…)`.
pub fn options(plan: PathBuf, out: PathBuf) -> RunOptions {
    RunOptions {
        plan,
        sets: Vec::new(),
        overrides: Overrides::default(),
        out,
        exports: Default::default(),
        sample_api: Some(SampleApiConfig::default()),
        progress: ProgressMode::Off,
        strict: false,
        threads: None,
        preflight: true,
    }
}

/// Runs through `planrun::run`; an error of planrun's own fails the test, and so does a
/// `summary.json` that the committed schema does not describe.
pub async fn run(options: RunOptions) -> Outcome {
    let outcome = planrun::run(options, StopSignal::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let path = outcome.report_dir.join(json::FILE);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_valid_summary(&path, &bytes);
    outcome
}

/// A run directory's `summary.json`, read as `planrun report` reads it: tests look at
/// the results through their type, not by indexing the JSON. The file must be valid
/// against the committed schema.
pub fn results(run_dir: &Path) -> Results {
    let path = run_dir.join(json::FILE);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_valid_summary(&path, &bytes);
    let results = json::parse(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
    // `json::parse` upgrades older files (their version, a missing verdict); a run just
    // written needs nothing filled in, so what the file says is what the test reads.
    let as_written: Results = serde_json::from_slice(&bytes).expect("summary.json");
    assert_eq!(as_written, results, "{} is not current", path.display());
    results
}

/// The plan files (`.yaml`, `.toml`) in a folder of the repository, sorted.
pub fn plans_in(folder: &str) -> Vec<PathBuf> {
    let mut plans: Vec<PathBuf> = std::fs::read_dir(repo().join(folder))
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "toml")
            )
        })
        .collect();
    plans.sort();
    plans
}

/// An external program a test needs (mdbook, xmllint): its path when it is on `PATH` or in
/// `~/.cargo/bin`. Missing under `CI=true` fails the test, since `.ci/run` installs it;
/// elsewhere the test says what it skipped.
pub fn required_tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    let found = dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`{name}` is not installed; .ci/run installs it"
        );
        eprintln!("`{name}` is not installed: skipping what needs it");
    }
    found
}

/// Reads one request (its head and its `content-length` body) off `stream`, keeping what
/// follows it in `buf` for the next call: the request's bytes and the head's length, or
/// `None` once the peer closed or failed. For the test servers that play the target.
pub async fn read_request(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
    buf: &mut Vec<u8>,
) -> Option<(Vec<u8>, usize)> {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |v| v.trim().parse().unwrap());
    while buf.len() < end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some((buf.drain(..end + length).collect(), end))
}
