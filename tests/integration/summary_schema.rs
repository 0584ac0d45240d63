//! The `summary.json` of real runs (closed model with on-start, checks, outcomes and
//! business metrics; open model with a burst, a recovery probe and a windowed SLO) is
//! valid against the committed `docs/summary.schema.json`, and reads back as the very
//! `Results` the run reported; and the validator (`schema_check`), which every run of the
//! test support also goes through, finds what the schema forbids.

use std::path::Path;
use std::time::Duration;

use planrun::compile::Overrides;
use planrun::report::{Results, SCHEMA_VERSION, json};
use planrun::{Outcome, RunOptions};

use crate::schema_check::{assert_valid_summary, schema, validate};
use crate::support::{options, repo, run, run_plan};

/// Validates the run's `summary.json` against the committed schema, and reads it back.
fn assert_valid(outcome: &Outcome) -> Results {
    let path = outcome.report_dir.join(json::FILE);
    let bytes = std::fs::read(&path).unwrap();
    assert_valid_summary(&path, &bytes);
    let results = json::parse(Path::new(json::FILE), &bytes).unwrap();
    assert_eq!(
        results, outcome.results,
        "summary.json reads back as what ran"
    );
    results
}

#[test]
fn the_validator_finds_what_the_schema_forbids() {
    let mut errors = Vec::new();
    let document = serde_json::json!({ "schema_version": -1, "verdict": { "status": "maybe" } });
    validate(schema(), schema(), &document, "$", &mut errors);
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
