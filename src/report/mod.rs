//! Reports: `Results` → bytes. Renderers are pure functions of `Results`; only this module
//! touches the disk, writing each file atomically (temporary name, then rename) into a
//! fresh run directory `OUT/<plan>-<UTC timestamp>/`, so an earlier run is never
//! overwritten. `planrun report` re-renders the same files from a saved `summary.json`.

mod business;
pub mod html;
pub mod json;
pub mod junit;
pub mod locust_csv;
pub mod markdown;
pub mod overview;
pub mod progress;
pub mod results;
pub mod terminal;
mod text;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use results::{Results, SCHEMA_VERSION, Status};

/// A renderer: `Results` → the bytes of one file.
pub type Renderer = fn(&Results) -> Result<Vec<u8>, RenderError>;

/// Every file of a run directory with its renderer, in the order they are written.
pub const FILES: [(&str, Renderer); 7] = [
    (json::FILE, json::render),
    ("stats.csv", locust_csv::stats),
    ("stats_history.csv", locust_csv::stats_history),
    ("failures.csv", locust_csv::failures),
    ("report.html", html::render),
    ("junit.xml", junit::render),
    ("summary.md", markdown::render),
];

/// Why a report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot serialise a latency histogram: {0}")]
    Histogram(String),
    #[error("cannot render `{file}`: {source}")]
    Render {
        file: &'static str,
        source: RenderError,
    },
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not a planrun summary.json: {message}", path.display())]
    NotResults { path: PathBuf, message: String },
    #[error(
        "`{}` has schema_version {found}; this planrun reads version {SCHEMA_VERSION}",
        path.display()
    )]
    SchemaVersion { path: PathBuf, found: u64 },
}

/// Why a renderer failed: a template or writer error, never a fact about the run.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Template(#[from] minijinja::Error),
    #[error(transparent)]
    Yaml(#[from] serde_yaml::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// One rendered file of `FILES`.
struct Rendered {
    name: &'static str,
    bytes: Vec<u8>,
}

fn render(
    results: &Results,
    name: &'static str,
    renderer: Renderer,
) -> Result<Vec<u8>, ReportError> {
    renderer(results).map_err(|source| ReportError::Render { file: name, source })
}

fn render_all(results: &Results) -> Result<Vec<Rendered>, ReportError> {
    FILES
        .iter()
        .map(|&(name, renderer)| {
            Ok(Rendered {
                name,
                bytes: render(results, name, renderer)?,
            })
        })
        .collect()
}

/// Writes every report file of the run into a new directory under `out`; returns it.
pub fn write_all(out: &Path, results: &Results) -> Result<PathBuf, ReportError> {
    let files = render_all(results)?;
    let dir = run_dir(out, results).map_err(|source| ReportError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    for file in &files {
        write_atomically(&dir.join(file.name), &file.bytes)?;
    }
    Ok(dir)
}

/// `OUT/<plan>-<YYYYMMDDTHHMMSSZ>`, with `-2`, `-3`… if that exists already.
fn run_dir(out: &Path, results: &Results) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let stamp = results.run.started_at.format("%Y%m%dT%H%M%SZ");
    let safe_name: String = results
        .plan
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
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    // Hidden, and unique per process, so two runs writing the same export never mix.
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        ReportError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}
