//! Reports: `RunReport` → bytes. Renderers are pure; only `write_all` touches the disk,
//! writing each file atomically (temporary name, then rename) into a fresh run directory
//! `OUT/<plan>-<UTC timestamp>/`, so an earlier run is never overwritten.

pub mod json;
pub mod open_model;
pub mod overview;
pub mod progress;
pub mod terminal;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::compile::ExecPlan;
use crate::metrics::RunSummary;
use crate::slo::Verdict;

/// Everything a report shows about one run.
#[derive(Debug, Clone, Copy)]
pub struct RunReport<'a> {
    pub exec: &'a ExecPlan,
    pub summary: &'a RunSummary,
    pub verdicts: &'a [Verdict],
}

impl<'a> RunReport<'a> {
    pub fn new(exec: &'a ExecPlan, summary: &'a RunSummary, verdicts: &'a [Verdict]) -> Self {
        Self {
            exec,
            summary,
            verdicts,
        }
    }

    /// Every SLO passed.
    pub fn passed(&self) -> bool {
        self.verdicts.iter().all(|v| v.passed)
    }
}

/// Writes every report file of the run into a new directory under `out`; returns it.
pub fn write_all(out: &Path, report: &RunReport) -> std::io::Result<PathBuf> {
    let dir = run_dir(out, report)?;
    write_atomically(&dir.join("summary.json"), &json::render(report)?)?;
    Ok(dir)
}

/// `OUT/<plan>-<YYYYMMDDTHHMMSSZ>`, with `-2`, `-3`… if that exists already.
fn run_dir(out: &Path, report: &RunReport) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let stamp = report.summary.started_at.format("%Y%m%dT%H%M%SZ");
    let safe_name: String = report
        .exec
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base = format!("{safe_name}-{stamp}");
    for attempt in 1.. {
        let name = if attempt == 1 {
            base.clone()
        } else {
            format!("{base}-{attempt}")
        };
        let dir = out.join(name);
        // `create_dir` fails if it exists: that is what keeps two runs apart.
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop above returns or errors")
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place, so a
/// crash never leaves a half-written report.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
