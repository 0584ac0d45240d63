//! `extends`: one plan file builds on another. Reads the chain of files, child first,
//! and merges them (maps key by key, lists replaced, except `secrets`, which accumulates;
//! `load` replaced whole), keeping where each value came from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{KeyPath, Located, PlanError, PlanErrorKind, PlanErrors, Source, Span, source, span};

pub(super) fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

pub(super) type Origins = HashMap<KeyPath, (usize, Located)>;

/// Loads one file and, recursively, the one it extends. `named_by` locates the
/// `extends` value that named this file, for errors reading it.
pub(super) fn load_chain(
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
