//! A small validator for the subset of JSON Schema that schemars writes, and the check
//! every test run goes through: its `summary.json` is valid against the committed
//! `docs/summary.schema.json`. A keyword the validator does not know fails the test
//! rather than passing it.

use std::path::Path;
use std::sync::OnceLock;

use planrun::report::results::SCHEMA_FILE;
use serde_json::{Map, Value};

use crate::support::repo;

/// The committed schema, read once per test process.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_slice(&std::fs::read(repo().join(SCHEMA_FILE)).unwrap()).unwrap()
    })
}

/// Fails the test, naming every violation with its JSON path, unless `bytes` (the
/// summary.json at `path`, as written) is valid against the committed schema.
pub fn assert_valid_summary(path: &Path, bytes: &[u8]) {
    // The file's JSON itself, not the type: the schema judges the text as written.
    let document: Value = serde_json::from_slice(bytes).unwrap();
    let mut errors = Vec::new();
    validate(schema(), schema(), &document, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{} is not valid against {SCHEMA_FILE}:\n{}",
        path.display(),
        errors.join("\n")
    );
}

/// Keywords that only describe.
const ANNOTATIONS: [&str; 7] = [
    "$schema",
    "$defs",
    "title",
    "description",
    "default",
    "format",
    "examples",
];

/// Errors in `value` against `schema`, each with its JSON path.
pub fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return errors.push(format!("{at}: nothing is allowed here")),
        Value::Object(schema) => schema,
        _ => panic!("{at}: a schema is an object or a bool, not {schema}"),
    };
    for (keyword, rule) in schema {
        match keyword.as_str() {
            "$ref" => validate(root, resolve(root, rule), value, at, errors),
            "type" => check_type(rule, value, at, errors),
            "enum" if !rule.as_array().unwrap().contains(value) => {
                errors.push(format!("{at}: {value} is not one of {rule}"))
            }
            "const" if rule != value => errors.push(format!("{at}: {value} is not {rule}")),
            "minimum" | "maximum" => check_bound(keyword, rule, value, at, errors),
            "anyOf" | "oneOf" => check_alternatives(root, keyword, rule, value, at, errors),
            "allOf" => {
                for part in rule.as_array().unwrap() {
                    validate(root, part, value, at, errors);
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    validate(root, rule, item, &format!("{at}[{i}]"), errors);
                }
            }
            "properties" | "required" | "additionalProperties" => {
                if let Some(object) = value.as_object() {
                    check_object(root, schema, keyword, object, at, errors);
                }
            }
            "enum" | "const" => {}
            other if ANNOTATIONS.contains(&other) => {}
            other => panic!("{at}: the validator does not know `{other}`"),
        }
    }
}

fn resolve<'a>(root: &'a Value, reference: &Value) -> &'a Value {
    let name = reference.as_str().unwrap();
    let pointer = name.strip_prefix('#').expect("a local $ref");
    root.pointer(pointer)
        .unwrap_or_else(|| panic!("no {name} in the schema"))
}

fn check_type(rule: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let types: Vec<&str> = match rule {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().map(|t| t.as_str().unwrap()).collect(),
        _ => panic!("{at}: `type` is {rule}"),
    };
    let is = |kind: &str| match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("{at}: unknown type `{other}`"),
    };
    if !types.iter().any(|kind| is(kind)) {
        errors.push(format!("{at}: {value} is not {rule}"));
    }
}

fn check_bound(keyword: &str, rule: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let (Some(bound), Some(number)) = (rule.as_f64(), value.as_f64()) else {
        return;
    };
    let within = if keyword == "minimum" {
        number >= bound
    } else {
        number <= bound
    };
    if !within {
        errors.push(format!("{at}: {number} is past the {keyword} {bound}"));
    }
}

fn check_alternatives(
    root: &Value,
    keyword: &str,
    rule: &Value,
    value: &Value,
    at: &str,
    errors: &mut Vec<String>,
) {
    let matching = rule
        .as_array()
        .unwrap()
        .iter()
        .filter(|alternative| {
            let mut mine = Vec::new();
            validate(root, alternative, value, at, &mut mine);
            mine.is_empty()
        })
        .count();
    let valid = if keyword == "oneOf" {
        matching == 1
    } else {
        matching >= 1
    };
    if !valid {
        errors.push(format!(
            "{at}: {matching} of the `{keyword}` alternatives match {value}"
        ));
    }
}

/// `properties`, `required` and `additionalProperties`, each checked once (when met).
fn check_object(
    root: &Value,
    schema: &Map<String, Value>,
    keyword: &str,
    object: &Map<String, Value>,
    at: &str,
    errors: &mut Vec<String>,
) {
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    match keyword {
        "required" => {
            for name in schema["required"].as_array().unwrap() {
                if !object.contains_key(name.as_str().unwrap()) {
                    errors.push(format!("{at}: `{name}` is missing"));
                }
            }
        }
        "properties" => {
            for (name, property) in properties {
                if let Some(field) = object.get(name) {
                    validate(root, property, field, &format!("{at}.{name}"), errors);
                }
            }
        }
        _ => {
            for (name, field) in object.iter().filter(|(n, _)| !properties.contains_key(*n)) {
                let rule = &schema["additionalProperties"];
                validate(root, rule, field, &format!("{at}.{name}"), errors);
            }
        }
    }
}
