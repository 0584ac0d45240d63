//! The merged value tree → `RawPlan`, reporting every structural mistake at once.
//!
//! serde stops at the first mistake, so each one found is recorded and its value taken
//! out of a scratch copy of the tree before trying again: a plan with a misspelt key and
//! a wrong type reports both. Bounded, so a pathological plan cannot loop for long.

use serde_json::Value;

use super::diagnostic::{PlanErrorKind, PlanErrors, did_you_mean, shorten};
use super::key_path::{KeyPath, Segment};
use super::raw::RawPlan;
use super::tree_de::{TreeErrorKind, Want, from_tree};
use super::{LoadedPlan, Part};

/// More mistakes than this in one plan are reported on the next run.
const MAX_REPORTED: usize = 20;

/// Deserialises `value`, or returns every mistake found (up to `MAX_REPORTED`).
pub(super) fn raw_plan(loaded: &LoadedPlan, mut value: Value) -> Result<RawPlan, PlanErrors> {
    let mut errors = PlanErrors::default();
    loop {
        let error = match from_tree::<RawPlan>(&value) {
            Ok(raw) if errors.is_empty() => return Ok(raw),
            Ok(_) => break,
            Err(error) => error,
        };
        let path = error.path.unwrap_or_else(KeyPath::root);
        let (kind, part, hint) = classify(error.kind, &path, at(&value, &path));
        // A missing key cannot be taken out; anything else can, to look further.
        let removed =
            !matches!(kind, PlanErrorKind::MissingKey { .. }) && remove(&mut value, &path);
        errors.push(loaded.error(path, kind, part).with_hint(hint));
        if !removed || errors.0.len() >= MAX_REPORTED {
            break;
        }
    }
    errors.into_result(RawPlan::default())
}

/// The value at `path` in `root`, if there is one.
fn at<'v>(root: &'v Value, path: &KeyPath) -> Option<&'v Value> {
    path.segments()
        .iter()
        .try_fold(root, |value, segment| match (segment, value) {
            (Segment::Key(key), Value::Object(map)) => map.get(key),
            (Segment::Index(index), Value::Array(items)) => items.get(*index),
            _ => None,
        })
}

/// Takes the value at `path` out of `root`; `false` if there is none (or it is the root).
pub(super) fn remove(root: &mut Value, path: &KeyPath) -> bool {
    let Some((last, parents)) = path.segments().split_last() else {
        return false;
    };
    let mut slot = root;
    for segment in parents {
        let next = match (segment, slot) {
            (Segment::Key(key), Value::Object(map)) => map.get_mut(key),
            (Segment::Index(index), Value::Array(items)) => items.get_mut(*index),
            _ => None,
        };
        let Some(next) = next else { return false };
        slot = next;
    }
    match (last, slot) {
        (Segment::Key(key), Value::Object(map)) => map.shift_remove(key).is_some(),
        (Segment::Index(index), Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
            true
        }
        _ => false,
    }
}

/// Turns a typed mistake into our kinds, with a "did you mean" for unknown keys. Type
/// mistakes are described from the value found and what the key takes, never in serde's
/// words (which name Rust types: `untagged enum Scalar`, `struct RawClass`).
fn classify(
    kind: TreeErrorKind,
    path: &KeyPath,
    found: Option<&Value>,
) -> (PlanErrorKind, Part, Option<String>) {
    let want = match kind {
        TreeErrorKind::UnknownKey { key, expected } => {
            let hint = did_you_mean(&key, expected.iter().copied());
            let kind = PlanErrorKind::UnknownKey {
                key: shorten(&key),
                expected: expected.iter().map(|&name| name.to_owned()).collect(),
            };
            return (kind, Part::Key, hint);
        }
        TreeErrorKind::MissingKey { key } => {
            let kind = PlanErrorKind::MissingKey { key: key.into() };
            return (kind, Part::Value, None);
        }
        TreeErrorKind::DuplicateKey { key } => {
            let message = format!("`{key}` is given twice");
            return (PlanErrorKind::WrongType { message }, Part::Key, None);
        }
        TreeErrorKind::Custom(message) => {
            return (PlanErrorKind::WrongType { message }, Part::Value, None);
        }
        TreeErrorKind::WrongType(want) => want,
    };
    let key = path.last_key().unwrap_or_default();
    let expected = match want {
        Want::Text if DURATION_KEYS.contains(&key) => {
            Some("a duration such as `30s` or `5m`".to_owned())
        }
        want => expected_words(&want, key).map(str::to_owned),
    };
    let found_words = found.map_or_else(|| "nothing".to_owned(), describe);
    let message = match expected {
        Some(expected) => format!("found {found_words}, expected {expected}"),
        None => format!("found {found_words}"),
    };
    let hint = match (found, path.last_key()) {
        (Some(Value::Number(n)), Some(key)) if DURATION_KEYS.contains(&key) => Some(format!(
            "durations need a unit: write `{n}s` for {n} seconds (or `{n}ms`, `{n}m`)"
        )),
        _ => None,
    };
    (PlanErrorKind::WrongType { message }, Part::Value, hint)
}

/// Keys whose values are durations (`5s`), where a bare number is a likely mistake.
const DURATION_KEYS: [&str; 9] = [
    "run-time",
    "timeout",
    "graceful-stop",
    "duration",
    "ramp",
    "pause",
    "at",
    "interval",
    "abort-grace",
];

/// A value as a message names it: `a list`, `a map`, `number 5`, `string "x"`.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "an empty value".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(text) => format!("string `{}`", shorten(text)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a map".into(),
    }
}

/// What a value at `key` takes, in plan words; None when serde did not say.
fn expected_words(want: &Want, key: &str) -> Option<&'static str> {
    let words = match want {
        Want::Text => "a string",
        Want::WholeNumber => "a whole number",
        Want::Natural => "a whole number from 0 up",
        Want::Number => "a number",
        Want::Bool => "`true` or `false`",
        Want::List => "a list",
        Want::Map => "a map",
        Want::Unknown => return None,
        Want::Shape(name) => match *name {
            "Scalar" => match key {
                "spawn-rate" => "a number of users per second, or a rate such as `10/s`",
                "rate" => "a rate such as `10/s` or `1000/min`",
                "max-body" => "a size such as `512KiB` or `4MB`, or a number of bytes",
                "min-version" => "`1.2` or `1.3`",
                _ => "a number or a string such as `2xx`",
            },
            "RawStatuses" => "a status such as `200` or `2xx`, or a list of them",
            "RawRate" => "a rate such as `10/s`, or a map of rates by task name",
            "OneOrMany" => "an outcome such as `book.created`, or a list of them",
            "RawPlan" => "a map of plan settings such as `host`, `classes` and `load`",
            "RawClass" => "a map of class settings such as `tasks` and `weight`",
            "RawStep" => "a map of request settings such as `path` and `method`",
            "RawExtract" => "a map with one of `json`, `regex`, `header`, `cookie` or `status`",
            "RawCheck" => "a map with a check such as `status`, `json` or `contains`",
            "RawData" => "a map with `file` (and `mode`)",
            "RawTls" => "a map of TLS settings such as `ca-file` and `insecure`",
            "RawBusinessMetric" => "a map with `rate` or `count`",
            "RawLoad" => "a map of load settings such as `users` and `run-time`",
            "RawBurst" => "a map with `request`, `size` and `at`",
            "RawRecovery" => "a map with `request`, `successes`, `interval` and `timeout`",
            "RawStage" => "a map of stage settings such as `users` and `duration`",
            "RawScopedSlo" => "a map with `request` and `check`",
            _ => return None,
        },
    };
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_mistakes_use_plan_words() {
        let path = KeyPath::root().key("load").key("run-time");
        let found = serde_json::json!(5);
        let (kind, _, hint) = classify(TreeErrorKind::WrongType(Want::Text), &path, Some(&found));
        let message = "found number `5`, expected a duration such as `30s` or `5m`";
        assert_eq!(
            kind,
            PlanErrorKind::WrongType {
                message: message.into()
            }
        );
        assert!(hint.is_some());
        let path = KeyPath::root().key("classes").key("A");
        let found = serde_json::json!([]);
        let want = TreeErrorKind::WrongType(Want::Shape("RawClass"));
        let (kind, _, _) = classify(want, &path, Some(&found));
        let message = "found a list, expected a map of class settings such as `tasks` and `weight`";
        assert_eq!(
            kind,
            PlanErrorKind::WrongType {
                message: message.into()
            }
        );
    }

    #[test]
    fn removes_keys_and_items_but_not_the_root() {
        let mut value = serde_json::json!({"a": {"b": [1, 2]}, "c": 1});
        assert!(remove(
            &mut value,
            &KeyPath::root().key("a").key("b").index(0)
        ));
        assert!(remove(&mut value, &KeyPath::root().key("c")));
        assert!(!remove(&mut value, &KeyPath::root().key("zz").key("b")));
        assert!(!remove(&mut value, &KeyPath::root()));
        assert_eq!(value, serde_json::json!({"a": {"b": [2]}}));
    }
}
