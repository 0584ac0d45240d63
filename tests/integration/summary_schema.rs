//! The `summary.json` of real runs (closed model with on-start, checks, outcomes and
//! business metrics; open model with a burst, a recovery probe and a windowed SLO) is
//! valid against the committed `docs/summary.schema.json`, and reads back as the very
//! `Results` the run reported. The validator is the small subset of JSON Schema that
//! schemars writes; a keyword it does not know fails the test rather than passing it.

use std::path::Path;
use std::time::Duration;

use planrun::compile::Overrides;
use planrun::report::{Results, SCHEMA_VERSION, json, results::SCHEMA_FILE};
use planrun::{Outcome, RunOptions};
use serde_json::{Map, Value};

use crate::support::{options, repo, run, run_plan};

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
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
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

/// Validates the run's `summary.json` against the committed schema, and reads it back.
fn assert_valid(outcome: &Outcome) -> Results {
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo().join(SCHEMA_FILE)).unwrap()).unwrap();
    let path = outcome.report_dir.join(json::FILE);
    let bytes = std::fs::read(&path).unwrap();
    // The file's JSON itself, not the type: the schema judges the text as written.
    let document: Value = serde_json::from_slice(&bytes).unwrap();
    let mut errors = Vec::new();
    validate(&schema, &schema, &document, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{}:\n{}",
        path.display(),
        errors.join("\n")
    );
    let results = json::parse(Path::new(json::FILE), &bytes).unwrap();
    assert_eq!(
        results, outcome.results,
        "summary.json reads back as what ran"
    );
    results
}

#[test]
fn the_validator_finds_what_the_schema_forbids() {
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo().join(SCHEMA_FILE)).unwrap()).unwrap();
    let mut errors = Vec::new();
    let document = serde_json::json!({ "schema_version": -1, "verdict": { "status": "maybe" } });
    validate(&schema, &schema, &document, "$", &mut errors);
    let errors = errors.join("\n");
    for expected in [
        "`\"plan\"` is missing",
        "$.schema_version: -1",
        "$.verdict.status",
    ] {
        assert!(errors.contains(expected), "{expected} not in:\n{errors}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_model_journey_writes_a_valid_summary() {
    let out = tempfile::tempdir().expect("out dir");
    let outcome = run(RunOptions {
        overrides: Overrides {
            run_time: Some(Duration::from_secs(2)),
            users: Some(6),
            spawn_rate: Some(planrun::units::Rate::parse("100/s").unwrap()),
            seed: Some(7),
            ..Overrides::default()
        },
        sample_api: Some(Default::default()),
        ..options(repo().join("plans/journey.yaml"), out.path().to_path_buf())
    })
    .await;
    let results = assert_valid(&outcome);
    assert_eq!(results.schema_version, SCHEMA_VERSION);
    assert!(results.on_start.is_some() && !results.outcomes.is_empty());
    assert!(!results.metrics.is_empty(), "{:?}", results.metrics);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_model_run_with_a_burst_and_a_probe_writes_a_valid_summary() {
    let (outcome, _out) = run_plan(
        r#"
seed: 2
classes:
  A: { tasks: { health: { path: /api/v1/healthz } } }
load:
  rate: 20/s
  run-time: 2s
  bursts: [ { request: health, size: 5, at: 1s } ]
  recovery: { request: health, successes: 2, interval: 100ms }
slos:
  - error-rate < 5% over any 1s
  - p95 < 5s
"#,
        Overrides::default(),
    )
    .await;
    let results = assert_valid(&outcome);
    let arrivals = results.arrivals.as_ref().expect("open model");
    assert_eq!(arrivals.due, arrivals.started + arrivals.dropped);
    assert_eq!(results.bursts.len(), 1);
    assert!(results.recovery.is_some());
    assert!(results.aggregate.service_percentiles_ms.is_some());
    assert!(results.slos[0].window.is_some());
}
