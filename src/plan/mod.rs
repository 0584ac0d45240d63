//! Plan files: YAML or TOML text → `LoadedPlan` (a `RawPlan` plus where every value came from).
//!
//! Input: a plan path and `--set key.path=value` flags. Output: the merged plan after
//! `extends` (child keys override the parent's; maps merge, lists are replaced, except
//! `secrets`, which accumulates) and `--set`.
//! Every error names its file, line and column; nothing here sends traffic or decides
//! anything about the run: that is compile's job.

mod deserialize;
pub(crate) mod diagnostic;
mod emit;
mod extends;
pub(crate) mod key_path;
mod limits;
pub(crate) mod raw;
pub(crate) mod read;
mod scalar;
mod set_flag;
pub(crate) mod source;
pub(crate) mod span;
mod syntax;
mod toml_tree;
mod tree_de;
mod yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use extends::{canonical, load_chain};
use set_flag::{apply_set, quote_hint, set};

pub use diagnostic::{PlanError, PlanErrorKind, PlanErrors, did_you_mean};
pub use emit::to_yaml;
pub(crate) use key_path::{KeyPath, Segment};
pub(crate) use raw::RawPlan;
pub(crate) use source::Source;
pub use span::{Located, Span};

/// A plan as written, merged and deserialised, with the sources to point errors at.
#[derive(Debug)]
pub struct LoadedPlan {
    pub(crate) raw: RawPlan,
    /// The merged value tree: the plan as it will run (after `extends` and `--set`).
    pub(crate) value: Value,
    /// The plan file first, then each file it extends.
    pub(crate) files: Vec<Source>,
    origins: HashMap<KeyPath, (usize, Located)>,
    /// Values set on the command line, by key path, with the flag that set them as
    /// messages name it (`--set load.users=50`, `--users`).
    flags: Vec<(KeyPath, String)>,
}

/// A command-line flag that edits the merged plan after `extends` and `--set`: `-u 50`
/// sets `load.users` and takes out the load it replaces. The plan as run then shows the
/// flag's value, and the plan's own rules judge it, in errors named by the flag.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FlagEdit {
    /// The flag as messages name it: `--users`, `PLANRUN_HOST`.
    pub(crate) flag: String,
    pub(crate) path: KeyPath,
    pub(crate) value: Value,
    /// Keys the flag replaces, taken out first (`-u` replaces `load.stages`).
    pub(crate) removes: Vec<KeyPath>,
}

/// Which part of a `key: value` pair an error points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Key,
    Value,
}

impl LoadedPlan {
    /// The file given on the command line.
    pub(crate) fn root(&self) -> &Source {
        &self.files[0]
    }

    /// An error at `path`, located in the file (or `--set` flag) the value came from.
    pub(crate) fn error(&self, path: KeyPath, kind: PlanErrorKind, part: Part) -> PlanError {
        if let Some((_, flag)) = self.flags.iter().rev().find(|(p, _)| starts_with(&path, p)) {
            return PlanError::new(path, kind).given_by_flag(flag);
        }
        let Some((exact, file, located)) = self.nearest_origin(&path) else {
            return PlanError::new(path, kind).at(self.root(), None);
        };
        // A key that was never written (a missing one) points at the nearest parent's key,
        // or, for a parent with no key (the root, a list item), at its first line only.
        let span = match (exact, part, located.key) {
            (true, Part::Value, _) => located.value,
            (_, _, Some(key)) => key,
            (_, _, None) => first_line(&self.files[file].text, located.value),
        };
        PlanError::new(path, kind).at(&self.files[file], Some(span))
    }

    /// This plan with `edits` applied over it, deserialised again.
    pub(crate) fn edited(&self, edits: &[FlagEdit]) -> Result<LoadedPlan, PlanErrors> {
        let mut value = self.value.clone();
        let mut flags = self.flags.clone();
        for edit in edits {
            for path in &edit.removes {
                deserialize::remove(&mut value, path);
            }
            set(&mut value, &edit.path, edit.value.clone()).map_err(|index| {
                PlanError::new(
                    edit.path.clone(),
                    PlanErrorKind::WrongType {
                        message: format!("`{}` has no item {index}", edit.path),
                    },
                )
                .given_by_flag(&edit.flag)
            })?;
            flags.push((edit.path.clone(), edit.flag.clone()));
        }
        let mut loaded = LoadedPlan {
            raw: RawPlan::default(),
            value: Value::Null,
            files: self.files.clone(),
            origins: self.origins.clone(),
            flags,
        };
        loaded.raw = deserialize::raw_plan(&loaded, value.clone())?;
        loaded.value = value;
        Ok(loaded)
    }

    /// The directory that relative paths written at `path` are resolved against: that of
    /// the file that wrote the value.
    pub(crate) fn dir_of(&self, path: &KeyPath) -> PathBuf {
        let file = self.nearest_origin(path).map_or(0, |(_, file, _)| file);
        self.files[file].dir().to_path_buf()
    }

    /// Where `path`, or its nearest written ancestor, is written: whether it was `path`
    /// itself, the file, and the spans.
    fn nearest_origin(&self, path: &KeyPath) -> Option<(bool, usize, Located)> {
        let mut probe = path.clone();
        loop {
            if let Some((file, located)) = self.origins.get(&probe) {
                return Some((probe == *path, *file, *located));
            }
            probe.pop()?;
        }
    }
}

fn first_line(text: &str, span: Span) -> Span {
    let end = text
        .get(span.start..span.end)
        .and_then(|value| value.find('\n'))
        .map_or(span.end, |newline| span.start + newline);
    Span { end, ..span }
}

fn starts_with(path: &KeyPath, prefix: &KeyPath) -> bool {
    path.segments().starts_with(prefix.segments())
}

/// Reads `path` and every file it extends, merges them, applies `--set` flags and
/// deserialises the result. Errors never show the value of a variable that a file read
/// so far marks secret (a file named by `extends` may hold one).
pub fn load(path: &Path, sets: &[String]) -> Result<LoadedPlan, PlanErrors> {
    let mut secret_names = Vec::new();
    load_unscrubbed(path, sets, &mut secret_names)
        .map_err(|errors| errors.hiding(&secret_values(&secret_names)))
}

/// Values shorter than this are not hidden, as `compile::secrets::MIN_LEN` (compile
/// warns about them by name).
const SECRET_MIN_LEN: usize = 8;

/// The values of the variables named under `secrets:`, as the environment has them.
fn secret_values(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .filter(|value| value.len() >= SECRET_MIN_LEN)
        .collect()
}

fn load_unscrubbed(
    path: &Path,
    sets: &[String],
    secret_names: &mut Vec<String>,
) -> Result<LoadedPlan, PlanErrors> {
    let mut files = Vec::new();
    let mut chain = vec![canonical(path)];
    let (mut value, origins) = load_chain(path, None, &mut chain, &mut files, secret_names)?;
    let mut loaded = LoadedPlan {
        raw: RawPlan::default(),
        value: Value::Null,
        files,
        origins,
        flags: Vec::new(),
    };
    let mut errors = PlanErrors::default();
    for flag in sets {
        match apply_set(&mut value, flag) {
            Ok(path) => loaded.flags.push((path, format!("--set {flag}"))),
            Err(message) => errors.push(
                PlanError::new(
                    KeyPath::root(),
                    PlanErrorKind::BadSet {
                        flag: flag.clone(),
                        message,
                    },
                )
                .given_by_flag(&format!("--set {flag}")),
            ),
        }
    }
    errors.into_result(())?;
    loaded.raw = deserialize::raw_plan(&loaded, value.clone()).map_err(|errors| {
        PlanErrors(errors.0.into_iter().map(|e| quote_hint(e, sets)).collect())
    })?;
    loaded.value = value;
    Ok(loaded)
}
