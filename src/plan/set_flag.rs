//! `--set key.path=value`: a plan edit from the command line, applied to the merged
//! plan before it is deserialised; its value is read as YAML.

use serde_json::{Map, Value};

use super::{KeyPath, PlanError, PlanErrorKind, Segment, diagnostic, yaml};

/// A `--set` value in braces or brackets is read as a YAML map or list; where the plan
/// wants text, the error says how to pass it as text.
pub(super) fn quote_hint(error: PlanError, sets: &[String]) -> PlanError {
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

/// Applies one `--set key.path=value`; the value is read as YAML (`50`, `2s`, `[1, 2]`).
pub(super) fn apply_set(root: &mut Value, flag: &str) -> Result<KeyPath, String> {
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
pub(super) fn set(root: &mut Value, path: &KeyPath, value: Value) -> Result<(), usize> {
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
}
