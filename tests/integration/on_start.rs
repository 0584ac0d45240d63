//! A user whose `on-start` (log-in) failed runs none of its tasks: it retries `on-start`
//! after its think time, or stops, and is counted. A template error at run time names the
//! variable, the field and the request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::support::{results, run_on_own_host};

#[derive(Default)]
struct Hits {
    login: AtomicU64,
    items: AtomicU64,
}

/// A server whose log-in always fails (503) and whose items need no token.
async fn failing_login_server() -> (SocketAddr, Arc<Hits>) {
    let hits = Arc::new(Hits::default());
    let (login, items) = (hits.clone(), hits.clone());
    let app = Router::new()
        .route(
            "/login",
            post(move || async move {
                login.login.fetch_add(1, Ordering::Relaxed);
                StatusCode::SERVICE_UNAVAILABLE
            }),
        )
        .route(
            "/items",
            get(move || async move {
                items.items.fetch_add(1, Ordering::Relaxed);
                "[]"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

fn plan(addr: SocketAddr, on_failure: &str) -> String {
    format!(
        "name: login-fails
host: http://{addr}
classes:
  Member:
    think-time: constant 200ms
{on_failure}
    headers:
      Authorization: \"{{% if token is defined %}}Bearer {{{{ token }}}}{{% endif %}}\"
    on-start:
      - name: login
        method: POST
        path: /login
        body: '{{}}'
        extract:
          token: {{ json: $.token }}
    tasks:
      items:
        path: /items
load: {{ users: 3, spawn-rate: 100/s, run-time: 1s }}
"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_whose_on_start_failed_retries_it_and_runs_no_task() {
    let (addr, hits) = failing_login_server().await;
    let (outcome, _out) = run_on_own_host(&plan(addr, "")).await;
    let summary = &outcome.summary;
    assert_eq!(hits.items.load(Ordering::Relaxed), 0, "tasks ran");
    assert_eq!(summary.request("items").map_or(0, |r| r.count), 0);
    let logins = hits.login.load(Ordering::Relaxed);
    assert_eq!(summary.request("login").unwrap().count, logins);
    // Three users, each retrying every 200ms for about a second.
    assert!((9..=24).contains(&logins), "{logins} log-ins");
    let on_start = results(&outcome.report_dir).on_start.expect("on_start");
    assert_eq!(on_start.users_failed, 3, "{on_start:?}");
    assert_eq!(on_start.retries, logins - 3);
    assert_eq!(on_start.users_stopped, 0);
    let line = format!(
        "on-start failed for 3 users: they ran no task until it succeeded ({} retries)",
        logins - 3
    );
    let terminal = planrun::report::terminal::render(&outcome.results);
    assert!(terminal.contains(&line), "{terminal}");
    for file in ["report.html", "summary.md"] {
        let text = std::fs::read_to_string(outcome.report_dir.join(file)).unwrap();
        assert!(text.contains(&line), "{line} not in {file}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_start_failure_stop_ends_the_user() {
    let (addr, hits) = failing_login_server().await;
    let (outcome, _out) = run_on_own_host(&plan(addr, "    on-start-failure: stop")).await;
    assert_eq!(hits.items.load(Ordering::Relaxed), 0);
    assert_eq!(hits.login.load(Ordering::Relaxed), 3);
    let on_start = results(&outcome.report_dir).on_start.expect("on_start");
    assert_eq!(on_start.users_failed, 3);
    assert_eq!(on_start.retries, 0);
    assert_eq!(on_start.users_stopped, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_error_names_the_variable_the_field_and_the_request() {
    let (addr, hits) = failing_login_server().await;
    // `token` comes from a task that never succeeds: `items` renders without it.
    let plan = format!(
        "name: no-token
host: http://{addr}
classes:
  Member:
    think-time: constant 100ms
    tasks:
      login:
        method: POST
        path: /login
        body: '{{}}'
        extract:
          token: {{ json: $.token }}
      items:
        path: /items
        headers:
          Authorization: \"Bearer {{{{ token }}}}\"
load: {{ users: 2, spawn-rate: 100/s, run-time: 1s }}
"
    );
    let (outcome, _out) = run_on_own_host(&plan).await;
    assert_eq!(hits.items.load(Ordering::Relaxed), 0);
    let failure = outcome
        .summary
        .failures
        .iter()
        .find(|f| f.name == "items")
        .expect("items failed");
    assert_eq!(failure.category, "template");
    assert_eq!(
        failure.reason,
        "template error: header `Authorization` of `items`: `token` is undefined \
         (no `set` or `extract` of this user has given it a value yet)"
    );
}
