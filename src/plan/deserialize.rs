//! The merged value tree → `RawPlan`, reporting every structural mistake at once.
//!
//! serde stops at the first mistake, so each one found is recorded and its value taken
//! out of a scratch copy of the tree before trying again: a plan with a misspelt key and
//! a wrong type reports both. Bounded, so a pathological plan cannot loop for long.

use serde_json::Value;

use super::diagnostic::{PlanErrorKind, PlanErrors, did_you_mean, shorten};
use super::key_path::{KeyPath, Segment};
use super::raw::RawPlan;
use super::{LoadedPlan, Part};

/// More mistakes than this in one plan are reported on the next run.
const MAX_REPORTED: usize = 20;

/// Deserialises `value`, or returns every mistake found (up to `MAX_REPORTED`).
pub(super) fn raw_plan(loaded: &LoadedPlan, mut value: Value) -> Result<RawPlan, PlanErrors> {
    let mut errors = PlanErrors::default();
    loop {
        let error = match serde_path_to_error::deserialize::<_, RawPlan>(value.clone()) {
            Ok(raw) if errors.is_empty() => return Ok(raw),
            Ok(_) => break,
            Err(error) => error,
        };
        let mut path = KeyPath::root();
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => path.push(Segment::Index(*index)),
                serde_path_to_error::Segment::Map { key } => path.push(Segment::Key(key.clone())),
                _ => {}
            }
        }
        let message = error.into_inner().to_string();
        let (kind, part, hint) = classify(&message, &path, at(&value, &path));
        let path = match &kind {
            PlanErrorKind::UnknownKey { key, .. } if path.last_key() != Some(key) => {
                path.key(key.clone())
            }
            _ => path,
        };
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

/// Turns serde's messages into our kinds, with a "did you mean" for unknown keys. Type
/// mistakes are described from the value found and what the key takes, never in serde's
/// words (which name Rust types: `untagged enum Scalar`, `struct RawClass`).
fn classify(
    message: &str,
    path: &KeyPath,
    found: Option<&Value>,
) -> (PlanErrorKind, Part, Option<String>) {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (key, rest) = rest.split_once('`').unwrap_or((rest, ""));
        let expected: Vec<String> = rest
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        let hint = did_you_mean(key, expected.iter().map(String::as_str));
        return (
            PlanErrorKind::UnknownKey {
                key: shorten(key),
                expected,
            },
            Part::Key,
            hint,
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or(rest).to_owned();
        return (PlanErrorKind::MissingKey { key }, Part::Value, None);
    }
    let key = path.last_key().unwrap_or_default();
    let expected = match expected_words(message, path) {
        Some(words) if words == "a string" && DURATION_KEYS.contains(&key) => {
            Some("a duration such as `30s` or `5m`".to_owned())
        }
        other => other,
    };
    let found_words = found.map_or_else(|| "nothing".to_owned(), describe);
    let message = match expected {
        Some(expected) => format!("found {found_words}, expected {expected}"),
        None => plain_type_message(message),
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

/// What the key at `path` takes, in plan words, from serde's `expected …` (or its
/// "did not match any variant of untagged enum X"); None when serde named no type.
fn expected_words(message: &str, path: &KeyPath) -> Option<String> {
    let named = message
        .split_once("untagged enum ")
        .map(|(_, name)| name)
        .or_else(|| message.split_once("expected struct ").map(|(_, name)| name))
        .or_else(|| {
            message
                .split_once(", expected ")
                .map(|(_, expected)| expected)
        })?;
    let name = named.split_whitespace().next().unwrap_or_default();
    let key = path.last_key().unwrap_or_default();
    let words = match name {
        "Scalar" => match key {
            "spawn-rate" => "a number of users per second, or a rate such as `10/s`",
            "rate" => "a rate such as `10/s` or `1000/min`",
            "max-body" => "a size such as `512KiB` or `4MB`, or a number of bytes",
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
        "RawBusinessMetric" => "a map with `rate` or `count`",
        "RawLoad" => "a map of load settings such as `users` and `run-time`",
        "RawBurst" => "a map with `request`, `size` and `at`",
        "RawRecovery" => "a map with `request`, `successes`, `interval` and `timeout`",
        "RawStage" => "a map of stage settings such as `users` and `duration`",
        "RawScopedSlo" => "a map with `request` and `check`",
        "i64" | "i32" | "u32" | "u16" => "a whole number",
        "u64" => "a whole number from 0 up",
        "f64" => "a number",
        "a" | "an" => return Some(plain_expected(named)),
        _ => return None,
    };
    Some(words.to_owned())
}

/// serde's own plain phrases (`a string`, `a sequence`, `a boolean`) in plan words.
fn plain_expected(expected: &str) -> String {
    match expected.trim() {
        "a sequence" => "a list".into(),
        "a boolean" => "`true` or `false`".into(),
        other => other.to_owned(),
    }
}

/// serde's `invalid type: string "many", expected i64` in the words of a plan:
/// `found string "many", expected a whole number`. The fallback when the type is unknown.
fn plain_type_message(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    else {
        return message.to_owned();
    };
    let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
    let expected = match expected {
        "i64" | "i32" | "u32" | "u64" | "u16" => "a whole number",
        "f64" => "a number",
        "a sequence" => "a list",
        other => other,
    };
    let found = found.replace("sequence", "a list").replace("map", "a map");
    if expected.is_empty() {
        format!("found {found}")
    } else {
        format!("found {found}, expected {expected}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_messages_use_plan_words() {
        assert_eq!(
            plain_type_message(r#"invalid type: string "many", expected i64"#),
            r#"found string "many", expected a whole number"#
        );
        assert_eq!(
            plain_type_message("invalid type: sequence, expected a map"),
            "found a list, expected a map"
        );
        assert_eq!(plain_type_message("something else"), "something else");
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
