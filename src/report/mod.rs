//! Reports: `Results` → bytes. Renderers are pure functions of `Results`; only this module
//! touches the disk, writing each file atomically (temporary name, then rename) into a
//! fresh run directory `OUT/<plan>-<UTC timestamp>/`, so an earlier run is never
//! overwritten. `planrun report` re-renders the same files from a saved `summary.json`.

mod business;
pub mod html;
pub mod json;
pub(crate) mod junit;
pub(crate) mod locust_csv;
pub(crate) mod markdown;
pub(crate) mod open_model;
pub mod overview;
pub mod progress;
pub mod results;
pub mod terminal;
mod text;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use results::{Results, SCHEMA_VERSION, Status};

/// A renderer: `Results` → the bytes of one file.
pub(crate) type Renderer = fn(&Results) -> Result<Vec<u8>, RenderError>;

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
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not a planrun summary.json: {message}", path.display())]
    NotResults { path: PathBuf, message: String },
    #[error(
        "`{}` has schema_version {found}; this planrun reads versions 1 to {SCHEMA_VERSION}",
        path.display()
    )]
    SchemaVersion { path: PathBuf, found: u64 },
    #[error(
        "`{}` already holds `{file}`; give `--out` a new or empty directory",
        dir.display()
    )]
    WouldOverwrite { dir: PathBuf, file: &'static str },
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
    Io(#[from] std::io::Error),
}

/// Copies outside the run directory, for Locust habits and for CI.
#[derive(Debug, Clone, Default)]
pub struct Exports {
    /// `--csv PREFIX`: `PREFIX_stats.csv`, `PREFIX_stats_history.csv`, `PREFIX_failures.csv`.
    pub csv_prefix: Option<PathBuf>,
    /// `--csv-full-history`: `stats_history.csv` (in the run directory too) gets a row per
    /// request name each second, as Locust's flag of that name does.
    pub csv_full_history: bool,
    /// `--html FILE`.
    pub html: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`: `summary.md` is appended to it.
    pub step_summary: Option<PathBuf>,
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

/// Writes every report file of the run into a new directory under `out`, then the
/// `exports`; returns the run directory.
pub(crate) fn write_all(
    out: &Path,
    exports: &Exports,
    results: &Results,
) -> Result<PathBuf, ReportError> {
    let files = render_all(results)?;
    let dir = run_dir(out, results).map_err(|source| ReportError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    for file in &files {
        write_atomically(&dir.join(file.name), &file.bytes)?;
    }
    write_exports(exports, results)?;
    Ok(dir)
}

/// The exports, rendered again: renderers are pure, so they are the run directory's bytes.
fn write_exports(exports: &Exports, results: &Results) -> Result<(), ReportError> {
    if let Some(prefix) = &exports.csv_prefix {
        // Locust's names: `--csv reports/peak` writes `reports/peak_stats.csv`, …
        let csvs: [(&str, Renderer); 3] = [
            ("stats.csv", locust_csv::stats),
            ("stats_history.csv", locust_csv::stats_history),
            ("failures.csv", locust_csv::failures),
        ];
        for (name, renderer) in csvs {
            let mut path = OsString::from(prefix.as_os_str());
            path.push("_");
            path.push(name);
            write_creating_parent(Path::new(&path), &render(results, name, renderer)?)?;
        }
    }
    if let Some(path) = &exports.html {
        write_creating_parent(path, &render(results, "report.html", html::render)?)?;
    }
    if let Some(path) = &exports.step_summary {
        append(path, &render(results, "summary.md", markdown::render)?)?;
    }
    Ok(())
}

/// `planrun report SOURCE [--out DIR]`: reads a saved `summary.json` (or the one in the
/// directory `source`) and renders every file again. Without `out`, the files are
/// rewritten beside the JSON (they derive from it, so nothing is lost) and the JSON itself
/// is left alone; with `out`, all of them go there, and an `out` already holding any of
/// them is refused.
pub fn rerender(source: &Path, out: Option<&Path>) -> Result<(PathBuf, Results), ReportError> {
    let json_path = if source.is_dir() {
        source.join(json::FILE)
    } else {
        source.to_path_buf()
    };
    let bytes = std::fs::read(&json_path).map_err(|e| ReportError::Read {
        path: json_path.clone(),
        source: e,
    })?;
    let results = json::parse(&json_path, &bytes)?;
    let source_dir = match json_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = out.map_or_else(|| source_dir.clone(), Path::to_path_buf);
    std::fs::create_dir_all(&dir).map_err(|source| ReportError::Write {
        path: dir.clone(),
        source,
    })?;
    let in_place = same_dir(&dir, &source_dir);
    let mut files = render_all(&results)?;
    if in_place {
        files.retain(|file| file.name != json::FILE);
    } else if let Some(file) = files.iter().find(|file| dir.join(file.name).exists()) {
        return Err(ReportError::WouldOverwrite {
            dir,
            file: file.name,
        });
    }
    for file in &files {
        write_atomically(&dir.join(file.name), &file.bytes)?;
    }
    Ok((dir, results))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
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
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
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

fn write_creating_parent(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| ReportError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    write_atomically(path, bytes)
}

/// Appends to a file others write too (GitHub's step summary), after a blank line.
fn append(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.write_all(b"\n")?;
        file.write_all(bytes)
    };
    write().map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}
