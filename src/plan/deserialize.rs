//! The merged value tree → `RawPlan`, reporting every structural mistake at once.
//!
//! serde stops at the first mistake, so each one found is recorded and its value taken
//! out of a scratch copy of the tree before trying again: a plan with a misspelt key and
//! a wrong type reports both. Bounded, so a pathological plan cannot loop for long.

use serde_json::Value;

use super::diagnostic::{PlanErrorKind, PlanErrors, did_you_mean};
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
        let (kind, part, hint) = classify(&message);
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

/// Turns serde's messages into our kinds, with a "did you mean" for unknown keys.
fn classify(message: &str) -> (PlanErrorKind, Part, Option<String>) {
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
                key: key.to_owned(),
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
    (
        PlanErrorKind::WrongType {
            message: plain_type_message(message),
        },
        Part::Value,
        None,
    )
}

/// serde's `invalid type: string "many", expected i64` in the words of a plan:
/// `found string "many", expected a whole number`.
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
