//! A backend that answers with null fields (`{"code": null, "error": "date_overlap"}`, as
//! FastAPI's response models do): null is no value in outcomes, checks and extraction, and
//! outcomes declared exclusive that hold together are reported with their count.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::routing::post;
use planrun::Outcome;

use crate::support::{results, run_on_own_host};

/// An in-process server whose every booking is refused as an overlap, with a null `code`.
async fn null_code_server() -> SocketAddr {
    let app = Router::new().route(
        "/book",
        post(|| async { Json(serde_json::json!({"code": null, "error": "date_overlap"})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn run_against(addr: SocketAddr, book: &str) -> (Outcome, tempfile::TempDir) {
    let plan = format!(
        "name: nulls
host: http://{addr}
classes:
  Guest:
    think-time: constant 20ms
    tasks:
      book:
        method: POST
        path: /book
        body: '{{}}'
{book}
load: {{ users: 2, spawn-rate: 100/s, run-time: 1s }}
"
    );
    run_on_own_host(&plan).await
}

fn outcome_count(outcome: &Outcome, name: &str) -> u64 {
    outcome
        .summary
        .outcomes
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no outcome {name}"))
        .count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_code_is_not_created_and_does_not_exist() {
    let addr = null_code_server().await;
    let (outcome, _out) = run_against(
        addr,
        "        expect-status: [200]
        outcomes:
          created: json.code is defined
          truthy: json.code
          not-none: json.code is not none
          overlap: json.error == \"date_overlap\"
        checks:
          - { name: has a code, json: $.code, exists: true, fail: false }
          - { name: no code, json: $.code, exists: false, fail: false }
          - { name: code is null, json: $.code, is-null: true, fail: false }
        extract:
          code: { json: $.code, optional: true }
          kept: { json: $.error }
",
    )
    .await;
    let summary = &outcome.summary;
    let sent = summary.request("book").unwrap().count;
    assert!(sent > 10, "{summary:?}");
    assert_eq!(summary.total.failures, 0, "{:?}", summary.failures);
    // Null is no value: none of the idioms for "a code came back" counts it.
    assert_eq!(outcome_count(&outcome, "created"), 0);
    assert_eq!(outcome_count(&outcome, "truthy"), 0);
    assert_eq!(outcome_count(&outcome, "not-none"), 0);
    assert_eq!(outcome_count(&outcome, "overlap"), sent);
    let check = |name: &str| {
        let check = summary.checks.iter().find(|c| c.name == name).unwrap();
        (check.passed, check.failed)
    };
    assert_eq!(check("has a code"), (0, sent));
    assert_eq!(check("no code"), (sent, 0));
    assert_eq!(check("code is null"), (sent, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_field_fails_a_required_extraction() {
    let addr = null_code_server().await;
    let (outcome, _out) = run_against(
        addr,
        "        extract:
          code: { json: $.code }
",
    )
    .await;
    let summary = &outcome.summary;
    let book = summary.request("book").unwrap();
    assert!(book.count > 10);
    assert_eq!(book.failures, book.count);
    assert_eq!(
        summary.failures[0].reason,
        "extract: `code` (json $.code) found nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_outcomes_met_together_are_reported_with_their_count() {
    let addr = null_code_server().await;
    // `'code' in json` holds for a null code: a wrong condition, which the report shows.
    let (outcome, _out) = run_against(
        addr,
        "        exclusive-outcomes: [created, overlap]
        outcomes:
          created: \"'code' in json\"
          overlap: json.error == \"date_overlap\"
          refused: json.error is defined
",
    )
    .await;
    let sent = outcome.summary.request("book").unwrap().count;
    assert!(sent > 10);
    assert_eq!(outcome_count(&outcome, "created"), sent);
    let conflicts = results(&outcome.report_dir).outcome_conflicts;
    // `refused` is not in the group: only created + overlap conflict.
    assert_eq!(conflicts.len(), 1, "{conflicts:#?}");
    assert_eq!(conflicts[0].request, "book");
    assert_eq!(conflicts[0].outcomes, ["created", "overlap"]);
    assert_eq!(conflicts[0].count, sent);
    let line = format!(
        "{sent} responses of `book` met exclusive outcomes `created` and `overlap` together"
    );
    let terminal = planrun::report::terminal::render(&outcome.results);
    assert!(terminal.contains(&line), "{terminal}");
    let html = std::fs::read_to_string(outcome.report_dir.join("report.html")).unwrap();
    assert!(html.contains(&line), "{line} not in report.html");
    // Markdown shows the backticks as text: escaped.
    let markdown = std::fs::read_to_string(outcome.report_dir.join("summary.md")).unwrap();
    assert!(
        markdown.contains(&line.replace('`', "\\`")),
        "{line} not in summary.md:\n{markdown}"
    );
}
