//! Helpers: write a plan into a temporary directory, load and compile it.

use std::path::PathBuf;

use planrun::compile::{self, ExecPlan, Overrides};
use tempfile::TempDir;

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
