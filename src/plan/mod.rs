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
pub(crate) mod key_path;
mod limits;
pub(crate) mod raw;
pub(crate) mod read;
mod scalar;
pub(crate) mod source;
pub(crate) mod span;
mod syntax;
mod toml_tree;
mod tree_de;
mod yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

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

/// A `--set` value in braces or brackets is read as a YAML map or list; where the plan
/// wants text, the error says how to pass it as text.
fn quote_hint(error: PlanError, sets: &[String]) -> PlanError {
    if !matches!(error.kind, PlanErrorKind::WrongType { .. }) {
        return error;
    }
    let Some(flag) = error.flag.as_deref().and_then(|f| f.strip_prefix("--set ")) else {
        return error;
    };
    let Some((key, text)) = sets
        .iter()
        .find(|s| *s == flag)
        .and_then(|s| s.split_once('='))
    else {
        return error;
    };
    if !text.trim_start().starts_with(['{', '[']) {
        return error;
    }
    let kind = if text.trim_start().starts_with('{') {
        "map"
    } else {
        "list"
    };
    // YAML single quotes inside shell double quotes: `--set "body='{\"a\":1}'"`.
    let yaml = format!("{key}='{}'", text.replace('\'', "''"));
    let shell: String = yaml
        .chars()
        .flat_map(|c| match c {
            '"' | '\\' | '$' | '`' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let hint = format!(
        "`{text}` is read as a YAML {kind}; to pass it as text, quote it inside the value: --set \"{shell}\""
    );
    error.with_hint(Some(hint))
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

type Origins = HashMap<KeyPath, (usize, Located)>;

/// Loads one file and, recursively, the one it extends. `named_by` locates the
/// `extends` value that named this file, for errors reading it.
fn load_chain(
    path: &Path,
    named_by: Option<PlanError>,
    chain: &mut Vec<PathBuf>,
    files: &mut Vec<Source>,
    secret_names: &mut Vec<String>,
) -> Result<(Value, Origins), PlanErrors> {
    let source = read_link(path, named_by)?;
    let (value, index) = parse_map(&source)?;
    // Known before the file it extends is read, so an error quoting that file hides them.
    if let Some(names) = value.get("secrets").and_then(Value::as_array) {
        secret_names.extend(names.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    let file = files.len();
    let extends_at = index.get(&KeyPath::root().key("extends")).map(|l| l.value);
    // Moved, not cloned: a large plan's index is its largest structure.
    let origins: Origins = index.into_entries().map(|(p, l)| (p, (file, l))).collect();
    files.push(source);

    let Some(extends) = value.get("extends") else {
        return Ok((value, origins));
    };
    let (parent_path, named_by) = resolve_extends(extends, file, extends_at, chain, files)?;
    let (parent_value, parent_origins) =
        load_chain(&parent_path, Some(named_by), chain, files, secret_names)?;
    // The child's own positions win over the parent's for every key it writes.
    let mut merged_origins = parent_origins;
    merged_origins.extend(origins);
    Ok((merge(parent_value, value), merged_origins))
}

/// Reads one file of the chain; an unreadable parent is blamed on the `extends` naming it.
fn read_link(path: &Path, named_by: Option<PlanError>) -> Result<Source, PlanErrors> {
    match Source::read(path) {
        Ok(source) => Ok(source),
        Err(source::ReadFailure::Located(errors)) => Err(errors),
        Err(source::ReadFailure::Unreadable(kind)) => Err(match named_by {
            Some(at) => at.with_kind(kind).into(),
            None => PlanError::new(KeyPath::root(), kind).in_file(path).into(),
        }),
    }
}

/// Parses one file, which must hold a map at its top.
fn parse_map(source: &Source) -> Result<(Value, span::SpanIndex), PlanErrors> {
    let (value, index) = source.parse()?;
    if !value.is_object() {
        return Err(PlanError::new(
            KeyPath::root(),
            PlanErrorKind::WrongType {
                message: "a plan must be a map of keys such as `host`, `classes`, `load`, `slos`"
                    .into(),
            },
        )
        .at(source, Some(Span { start: 0, end: 0 }))
        .into());
    }
    Ok((value, index))
}

/// Finds the file that `files[file]`'s `extends` names and adds it to `chain`; returns
/// its path and the error that locates the `extends` value, for errors reading it.
fn resolve_extends(
    extends: &Value,
    file: usize,
    extends_at: Option<Span>,
    chain: &mut Vec<PathBuf>,
    files: &[Source],
) -> Result<(PathBuf, PlanError), PlanErrors> {
    let locate = |kind: PlanErrorKind| {
        PlanError::new(KeyPath::root().key("extends"), kind).at(&files[file], extends_at)
    };
    let Some(parent) = extends.as_str() else {
        return Err(locate(PlanErrorKind::WrongType {
            message: "`extends` takes the path of another plan file".into(),
        })
        .into());
    };
    let parent_path = files[file].dir().join(parent);
    let parent_canonical = canonical(&parent_path);
    if let Some(start) = chain.iter().position(|p| *p == parent_canonical) {
        // Named as written (`files` holds one source per link of `chain`), not as the
        // canonical paths used to detect the cycle, which depend on the checkout.
        let mut names: Vec<String> = files[start..]
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        names.push(parent_path.display().to_string());
        return Err(locate(PlanErrorKind::ExtendsCycle { chain: names }).into());
    }
    chain.push(parent_canonical);
    let named_by = locate(PlanErrorKind::Syntax {
        message: String::new(),
    });
    Ok((parent_path, named_by))
}

/// Top-level sections a child replaces whole: `load`'s simple form and `stages` are
/// alternatives, so merging a child's `users` into a parent's `stages` would conflict.
const REPLACED_WHOLE: [&str; 1] = ["load"];

/// Top-level lists a child adds to rather than replaces: a plan that marks one more
/// variable secret must not unmark the ones its parent marked.
const ACCUMULATED: [&str; 1] = ["secrets"];

/// Deep merge: maps merge key by key, anything else in `child` replaces `parent`.
fn merge(parent: Value, child: Value) -> Value {
    merge_at(parent, child, true)
}

fn merge_at(parent: Value, child: Value, top: bool) -> Value {
    match (parent, child) {
        (Value::Object(mut parent), Value::Object(child)) => {
            for (key, child_value) in child {
                let merged = match parent.shift_remove(&key) {
                    Some(_) if top && REPLACED_WHOLE.contains(&key.as_str()) => child_value,
                    // The child's items first, so its own positions stay right for errors.
                    Some(Value::Array(parent_items))
                        if top && ACCUMULATED.contains(&key.as_str()) =>
                    {
                        match child_value {
                            Value::Array(mut items) => {
                                for item in parent_items {
                                    if !items.contains(&item) {
                                        items.push(item);
                                    }
                                }
                                Value::Array(items)
                            }
                            other => other,
                        }
                    }
                    Some(parent_value) => merge_at(parent_value, child_value, false),
                    None => child_value,
                };
                parent.insert(key, merged);
            }
            Value::Object(parent)
        }
        (_, child) => child,
    }
}

/// Applies one `--set key.path=value`; the value is read as YAML (`50`, `2s`, `[1, 2]`).
fn apply_set(root: &mut Value, flag: &str) -> Result<KeyPath, String> {
    let (path_text, value_text) = flag
        .split_once('=')
        .ok_or_else(|| "expected `key.path=value`, e.g. `--set load.users=50`".to_owned())?;
    let path = KeyPath::parse_dotted(path_text.trim())
        .ok_or_else(|| format!("`{path_text}` is not a key path: expected e.g. `load.users`"))?;
    // Read like a plan file, with the same bounds: a value nested 60,000 levels deep fits
    // in one argument. Text that is not YAML is taken as text.
    let value = match yaml::parse(value_text) {
        Ok(parsed) => parsed.value,
        Err(refusals) => match refusals.iter().find_map(set_refusal) {
            Some(message) => return Err(message),
            None => Value::String(value_text.to_owned()),
        },
    };
    set(root, &path, value).map_err(|index| format!("`{path_text}` has no item {index}"))?;
    Ok(path)
}

/// Why a `--set` value is refused; None for a syntax error (the value is then text).
fn set_refusal(refusal: &yaml::Refusal) -> Option<String> {
    Some(match refusal {
        yaml::Refusal::Syntax { .. } => return None,
        yaml::Refusal::TooDeep { .. } => {
            format!("the value nests deeper than {} levels", yaml::MAX_DEPTH)
        }
        yaml::Refusal::AliasBomb { values, .. } => {
            format!("the value's aliases expand to {values} values")
        }
        yaml::Refusal::TooManyValues { .. } => {
            format!("the value holds more than {} values", yaml::MAX_VALUES)
        }
        yaml::Refusal::DuplicateKey { key, .. } => {
            format!("the value writes key `{}` twice", diagnostic::shorten(key))
        }
    })
}

/// Puts `value` at `path`, making the maps on the way; `Err(index)` for an index past a
/// list's end (or into something that is not a list).
fn set(root: &mut Value, path: &KeyPath, value: Value) -> Result<(), usize> {
    let mut slot = root;
    for segment in path.segments() {
        slot = match segment {
            Segment::Key(key) => {
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                let Value::Object(map) = slot else {
                    unreachable!("made an object just above")
                };
                map.entry(key.clone()).or_insert(Value::Null)
            }
            Segment::Index(index) => match slot {
                Value::Array(items) if *index < items.len() => &mut items[*index],
                _ => return Err(*index),
            },
        };
    }
    *slot = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_set_value_nested_too_deep_is_refused_at_once() {
        let mut root = json!({});
        let deep = format!("vars.x={}{}", "[".repeat(60_000), "]".repeat(60_000));
        let started = std::time::Instant::now();
        let error = apply_set(&mut root, &deep).unwrap_err();
        assert_eq!(error, "the value nests deeper than 64 levels");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(
            apply_set(&mut root, "vars.x={a: 1, a: 2}").unwrap_err(),
            "the value writes key `a` twice"
        );
        assert!(apply_set(&mut root, "vars.x=[1, {a: 2}]").is_ok());
    }

    #[test]
    fn secrets_accumulate_through_extends_and_other_lists_are_replaced() {
        let parent = json!({ "secrets": ["A", "B"], "slos": ["p95 < 1s"] });
        let child = json!({ "secrets": ["C", "A"], "slos": ["p99 < 2s"] });
        assert_eq!(
            merge(parent, child),
            json!({ "secrets": ["C", "A", "B"], "slos": ["p99 < 2s"] })
        );
        let inherited = merge(json!({ "secrets": ["A"] }), json!({ "name": "x" }));
        assert_eq!(inherited, json!({ "secrets": ["A"], "name": "x" }));
    }
}
