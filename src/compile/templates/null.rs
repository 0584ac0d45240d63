//! The null rule: a null is no value. JSON `null` in a response and a variable an
//! optional extraction left `none` are not *defined*: `x is defined` is false and
//! `x is undefined` true for them, as they are falsy, so `json.code is defined`,
//! `json.code` and `json.code is not none` all mean "a code came back". Checks
//! (`exists`) and extraction follow the same rule (see `engine::inspect`).

use minijinja::{Environment, Value};

/// Replaces minijinja's `defined` and `undefined` tests with null-aware ones.
pub(super) fn register(env: &mut Environment<'static>) {
    env.add_test("defined", |value: &Value| has_value(value));
    env.add_test("undefined", |value: &Value| !has_value(value));
}

/// Whether `value` is a value at all: neither undefined nor none.
pub(crate) fn has_value(value: &Value) -> bool {
    !(value.is_undefined() || value.is_none())
}

#[cfg(test)]
mod tests {
    use super::super::{Templates, Text, condition_source};
    use minijinja::Value;

    fn holds(condition: &str, json: serde_json::Value) -> bool {
        let mut templates = Templates::new();
        let Ok(Text::Template(id)) = templates.compile(&condition_source(condition)) else {
            panic!("a condition is a template")
        };
        templates.holds(
            id,
            &minijinja::context! { json => Value::from_serialize(&json) },
        )
    }

    #[test]
    fn a_null_field_is_not_defined() {
        let null = serde_json::json!({"code": null, "error": "date_overlap"});
        let code = serde_json::json!({"code": "R-1"});
        for condition in ["json.code is defined", "json.code", "json.code is not none"] {
            assert!(!holds(condition, null.clone()), "{condition}");
            assert!(holds(condition, code.clone()), "{condition}");
        }
        assert!(holds("json.code is undefined", null.clone()));
        assert!(holds("json.code is not defined", null.clone()));
        assert!(holds("json.code is none", null.clone()));
        // A missing field is not defined either; `is none` is for a field that is there.
        assert!(holds("json.missing is not defined", null.clone()));
        assert!(!holds("json.missing is none", null));
    }
}
