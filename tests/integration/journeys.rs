//! Multi-step flows against the in-process sample API: the token from log-in reaches
//! later requests, webhooks pass signature checks, outcomes and business metrics equal
//! what the server counted, and extraction, checks and data files behave as documented.

use std::time::Duration;

use planrun::compile::Overrides;
use planrun::sample_api::{OverlapStyle, SampleApiConfig};
use planrun::{Outcome, RunOptions};

use crate::support::{options, repo, run, run_plan};

async fn run_journey(style: OverlapStyle) -> (Outcome, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("out dir");
    let outcome = run(RunOptions {
        // Short thinks, so a few seconds hold dozens of journeys.
        sets: [
            "BookingUser",
            "WhatsAppWebhookUser",
            "MercadoPagoWebhookUser",
        ]
        .map(|class| format!("classes.{class}.think-time=between 50ms 150ms"))
        .to_vec(),
        overrides: Overrides {
            run_time: Some(Duration::from_secs(3)),
            users: Some(20),
            spawn_rate: Some(planrun::units::Rate::parse("100/s").unwrap()),
            seed: Some(7),
            ..Overrides::default()
        },
        sample_api: Some(SampleApiConfig {
            overlap_style: style,
            ..SampleApiConfig::default()
        }),
        ..options(repo().join("plans/journey.yaml"), out.path().to_path_buf())
    })
    .await;
    (outcome, out)
}

fn outcome_count(outcome: &Outcome, name: &str) -> u64 {
    let (request, outcome_name) = name.split_once('.').unwrap();
    outcome
        .summary
        .outcomes
        .iter()
        .find(|o| o.request == request && o.name == outcome_name)
        .unwrap_or_else(|| panic!("no outcome {name}"))
        .count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journey_plan_agrees_with_the_sample_api_in_both_overlap_styles() {
    for style in [OverlapStyle::Status, OverlapStyle::Body] {
        let (outcome, _out) = run_journey(style).await;
        let hits = outcome.sample_hits.clone().expect("hits");
        let summary = &outcome.summary;
        let count = |name: &str| summary.request(name).map_or(0, |r| r.count);

        // Every webhook verified; the token from log-in was on every confirm and cancel.
        assert_eq!(hits.event("whatsapp.signature_rejected"), 0, "{style:?}");
        assert_eq!(hits.event("mercadopago.signature_rejected"), 0);
        assert_eq!(hits.event("whatsapp.signature_ok"), count("whatsapp-text"));
        assert_eq!(
            hits.event("mercadopago.signature_ok"),
            count("mercadopago-payment")
        );
        assert_eq!(hits.event("auth.rejected"), 0);
        assert_eq!(hits.event("login.ok"), count("login"));
        assert_eq!(count("login"), 14, "one log-in per booking user");
        assert_eq!(hits.event("confirm.ok"), count("confirm"));
        assert_eq!(hits.event("cancel.ok"), count("cancel"));
        assert!(
            count("confirm") > 0 && count("pre-reserve") > 10,
            "{summary:?}"
        );

        // Outcomes classified from the body equal the server's own counts.
        assert_eq!(
            outcome_count(&outcome, "pre-reserve.created"),
            hits.event("prereserve.created")
        );
        assert_eq!(
            outcome_count(&outcome, "pre-reserve.overlap"),
            hits.event("prereserve.overlap")
        );
        assert_eq!(
            outcome_count(&outcome, "pre-reserve.locked"),
            hits.event("prereserve.locked")
        );
        // `exclusive-outcomes: true`: no response was classified twice.
        assert!(
            summary.outcome_conflicts.is_empty(),
            "{:?}",
            summary.outcome_conflicts
        );
        let rate = |name: &str| {
            summary
                .business
                .iter()
                .find(|m| m.name == name)
                .and_then(|m| m.value)
                .unwrap()
        };
        let attempts = count("pre-reserve") as f64;
        let created = hits.event("prereserve.created") as f64;
        assert!((rate("booking-success-rate") - created / attempts).abs() < 1e-9);
        assert_eq!(rate("bookings"), created);
        assert_eq!(rate("webhook-processing-rate"), 1.0);
        assert_eq!(summary.total.failures, 0, "{:?}", summary.failures);
        assert_eq!(outcome.exit_code(), planrun::exit_code::OK);

        // The webhook secrets signed every webhook, yet no report file holds them.
        for file in std::fs::read_dir(&outcome.report_dir).unwrap() {
            let path = file.unwrap().path();
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            for secret in [
                planrun::sample_api::SAMPLE_WHATSAPP_SECRET,
                planrun::sample_api::SAMPLE_MERCADOPAGO_SECRET,
            ] {
                assert!(!text.contains(secret), "{} holds a secret", path.display());
            }
        }
    }
}

/// Two requests: the first extracts, the second uses what it got.
const EXTRACTING: &str = r#"
name: extracting
classes:
  A:
    think-time: constant 50ms
    on-start:
      - name: login
        method: POST
        path: /api/v1/auth/login
        body: '{"username": "u{{ user_id }}", "password": "p"}'
        extract:
          token: { json: $.access_token }
          kind: { regex: '"token_type":"(\w+)"' }
          type: { header: content-type }
          code: { status: true }
    tasks:
      flow:
        steps:
          - name: list
            path: /api/v1/accommodations
            headers: { X-Seen: "{{ kind }}-{{ code }}-{{ type }}" }
            extract:
              missing: { json: $.nothing.here }
          - name: never
            path: /api/v1/healthz
load: { users: 2, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1s }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_is_not_there_fails_its_step_and_ends_the_flow() {
    let (outcome, _out) = run_plan(EXTRACTING, Overrides::default()).await;
    let summary = &outcome.summary;
    let list = summary.request("list").unwrap();
    assert!(list.count > 10, "{list:?}");
    assert_eq!(list.failures, list.count, "every list fails its extraction");
    let failure = summary.failures.iter().find(|f| f.name == "list").unwrap();
    assert_eq!(failure.category, "extract");
    assert!(
        failure
            .reason
            .contains("`missing` (json $.nothing.here) found nothing"),
        "{}",
        failure.reason
    );
    // The flow stops at the failed step: the next one is never sent.
    assert_eq!(summary.request("never").map_or(0, |r| r.count), 0);
    // Log-in's extractions all worked (no failure of its own).
    assert_eq!(summary.request("login").unwrap().failures, 0);
}

const CHECKS: &str = r#"
name: checks
classes:
  A:
    think-time: constant 20ms
    tasks:
      list:
        path: /api/v1/accommodations
        checks:
          - { name: first is cabin 1, json: "$[0].id", equals: 1 }
          - { name: counted only, json: "$[0].id", equals: 2, fail: false }
          - { name: typed json, header: content-type, contains: json }
      health:
        path: /api/v1/healthz
        checks:
          - { name: status ok, json: $.status, in: [ok, degraded] }
          - { name: no error, json: $.error, is-null: true }
          - { name: body says ok, matches: '"status"\s*:\s*"ok"' }
          - { name: is 200, status: [200] }
      strict:
        path: /api/v1/healthz
        checks:
          - { name: wrong on purpose, json: $.status, equals: down }
load: { users: 3, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1s }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_fail_requests_or_are_only_counted() {
    let (outcome, _out) = run_plan(CHECKS, Overrides::default()).await;
    let summary = &outcome.summary;
    let check = |name: &str| summary.checks.iter().find(|c| c.name == name).unwrap();
    let list = summary.request("list").unwrap();
    assert_eq!(
        list.failures, 0,
        "a `fail: false` check never fails its request"
    );
    assert_eq!(check("first is cabin 1").passed, list.count);
    assert_eq!(check("counted only").failed, list.count);
    assert_eq!(check("counted only").pass_rate(), Some(0.0));
    assert_eq!(check("typed json").passed, list.count);
    let health = summary.request("health").unwrap();
    for name in ["status ok", "no error", "body says ok", "is 200"] {
        assert_eq!(check(name).passed, health.count, "{name}");
    }
    assert_eq!(health.failures, 0);
    let strict = summary.request("strict").unwrap();
    assert!(strict.count > 0);
    assert_eq!(strict.failures, strict.count);
    let failure = summary
        .failures
        .iter()
        .find(|f| f.name == "strict")
        .unwrap();
    assert_eq!(
        (failure.category.as_str(), failure.reason.as_str()),
        ("check", "check failed: wrong on purpose")
    );
}

fn data_plan(dir: &std::path::Path, on_exhausted: &str) -> String {
    std::fs::write(dir.join("ids.csv"), "id,label\n1,one\n2,two\n3,three\n").unwrap();
    format!(
        r#"
name: data
data:
  cabin: {{ file: ids.csv, mode: unique, on-exhausted: {on_exhausted} }}
  any: {{ file: ids.csv, mode: random }}
classes:
  A:
    think-time: constant 10ms
    tasks:
      availability:
        path: "/api/v1/accommodations/{{{{ cabin.id }}}}/availability?check_in=2031-01-01&check_out=2031-01-09"
        headers: {{ X-Any: "{{{{ any.label }}}}" }}
load: {{ users: 2, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1s }}
"#
    )
}

async fn run_data(on_exhausted: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    std::fs::write(&plan, data_plan(dir.path(), on_exhausted)).unwrap();
    run(options(plan, dir.path().join("reports"))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_rows_are_used_once_then_fail_stop_or_recycle() {
    let stop = run_data("stop").await;
    let sent = stop.summary.request("availability").unwrap();
    assert_eq!(
        (sent.count, sent.failures),
        (3, 0),
        "three rows, then both users stop"
    );
    assert_eq!(stop.sample_hits.unwrap().count("availability"), 3);

    let fail = run_data("fail").await;
    let sent = fail.summary.request("availability").unwrap();
    assert!(sent.count > 10);
    assert_eq!(sent.failures, sent.count - 3, "all but the three rows fail");
    let failure = &fail.summary.failures[0];
    assert_eq!(failure.category, "template");
    assert!(
        failure
            .reason
            .contains("data `cabin` has used all its 3 rows"),
        "{}",
        failure.reason
    );

    let recycle = run_data("recycle").await;
    let sent = recycle.summary.request("availability").unwrap();
    assert!(sent.count > 10);
    assert_eq!(sent.failures, 0);
}

/// Runs `planrun PLAN --sample-api` on a broken plan: exit 3, nothing sent, and stderr
/// naming the place and the mistake.
fn rejects(name: &str, plan: &str, expected: &[&str]) {
    let file = crate::support::write_plan(name, plan);
    std::fs::write(file.dir.path().join("guests.csv"), "name,phone\nAna,+54\n").unwrap();
    let mut assert = crate::cli::planrun()
        .arg(&file.path)
        .args(["--sample-api", "--progress", "off", "--out"])
        .arg(file.dir.path().join("reports"))
        .assert()
        .code(3)
        .stdout(predicates::str::contains("sample API counted").not());
    for text in expected {
        assert = assert.stderr(predicates::str::contains(*text));
    }
    assert!(
        !file.dir.path().join("reports").exists(),
        "nothing is written"
    );
}

use predicates::prelude::PredicateBooleanExt as _;

#[test]
fn flow_mistakes_are_plan_errors_before_anything_is_sent() {
    let base = "load: { users: 1, spawn-rate: 1/s, run-time: 1s }\nclasses:\n  A:\n    tasks:\n      flow:\n        steps:\n";
    rejects(
        "later.yaml",
        &format!(
            "{base}          - {{ name: one, path: /api/v1/healthz, extract: {{ status: {{ json: $.status }} }} }}\n          - {{ name: two, path: \"/x/{{{{ stauts }}}}\" }}\n"
        ),
        &["later.yaml:8:", "undefined variable `stauts`", "status"],
    );
    rejects(
        "jsonpath.yaml",
        &format!(
            "{base}          - {{ path: /api/v1/healthz, extract: {{ s: {{ json: \"$.[oops\" }} }} }}\n"
        ),
        &["jsonpath.yaml:7:", "is not a JSONPath"],
    );
    rejects(
        "nofile.yaml",
        &format!(
            "data:\n  guest: {{ file: missing.csv }}\n{base}          - {{ path: \"/x/{{{{ guest.name }}}}\" }}\n"
        ),
        &["nofile.yaml:2:", "bad data file", "missing.csv"],
    );
    rejects(
        "column.yaml",
        &format!(
            "data:\n  guest: {{ file: guests.csv }}\n{base}          - {{ path: \"/x/{{{{ guest.nmae }}}}\" }}\n"
        ),
        &["column.yaml:", "data `guest` has no column `nmae`", "name"],
    );
    rejects(
        "outcome.yaml",
        &format!(
            "{base}          - {{ path: /x, outcomes: {{ ok: jsn.ok }} }}\nmetrics:\n  m: {{ rate: x.ok }}\n"
        ),
        &["undefined variable `jsn`", "json", "unknown outcome `x.ok`"],
    );
}

const BUSINESS: &str = r#"
name: business
classes:
  A:
    think-time: constant 20ms
    tasks:
      health:
        path: /api/v1/healthz
        outcomes: { up: json.status == "ok", down: json.status != "ok" }
metrics:
  availability: { rate: health.up }
  outages: { rate: health.down }
  ups: { count: health.up }
load: { users: 2, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1s }
slos:
  - availability > 99%
  - outages < 1%
  - ups > 1000000
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_metric_slos_pass_and_fail_with_their_measured_values() {
    let (outcome, _out) = run_plan(BUSINESS, Overrides::default()).await;
    let verdicts = &outcome.verdicts;
    let health = outcome.summary.request("health").unwrap().count;
    assert!(verdicts[0].passed && verdicts[1].passed, "{verdicts:?}");
    assert_eq!(verdicts[0].measured_text, "100%");
    assert_eq!(verdicts[1].measured_text, "0%");
    assert!(!verdicts[2].passed);
    assert_eq!(verdicts[2].measured, Some(health as f64));
    assert_eq!(verdicts[2].slo, "ups: count > 1000000");
    assert_eq!(outcome.exit_code(), planrun::exit_code::SLO_BREACHED);
}
