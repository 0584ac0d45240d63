//! The engine under tokio's paused clock with `FakeTransport`: exact counts, in
//! milliseconds of real time.

use std::sync::Arc;
use std::time::Duration;

use planrun::compile::ExecPlan;
use planrun::engine::{self, FakeTransport, StopSignal};
use planrun::metrics::{self, RunSummary};

use crate::support::compile_text;

async fn run(exec: ExecPlan, transport: FakeTransport) -> RunSummary {
    let exec = Arc::new(exec);
    let start = tokio::time::Instant::now();
    let (events, recorder) = metrics::recorder(&exec, start, None, metrics::stderr_printer());
    let outcome = engine::run(
        exec,
        Arc::new(transport),
        events,
        start,
        StopSignal::default(),
    )
    .await;
    recorder.finish(outcome).await
}

const THREE_CLASSES: &str = r#"
host: http://127.0.0.1:1
seed: 7
classes:
  ReservationUser:
    weight: 70
    think-time: pacing 1s
    tasks: { a: { path: /a } }
  WhatsAppWebhookUser:
    weight: 20
    think-time: pacing 1s
    tasks: { b: { path: /b } }
  MercadoPagoWebhookUser:
    weight: 10
    think-time: pacing 1s
    tasks: { c: { path: /c } }
load: { users: 100, spawn-rate: 1000/s, run-time: 10s }
"#;

#[tokio::test(start_paused = true)]
async fn hundred_users_split_exactly_70_20_10_and_pace_exactly() {
    let exec = compile_text(THREE_CLASSES);
    assert_eq!(exec.mix.per_class, vec![70, 20, 10]);
    let transport = FakeTransport::ok_after(Duration::from_millis(10));
    let summary = run(exec, transport.clone()).await;
    // Each user starts within the first 0.1 s and paces one task a second for 10 s.
    let sent = transport.sent();
    assert_eq!(sent.get("GET /a"), Some(&700));
    assert_eq!(sent.get("GET /b"), Some(&200));
    assert_eq!(sent.get("GET /c"), Some(&100));
    assert_eq!(summary.total.count, 1000);
    assert_eq!(summary.total.failures, 0);
    assert_eq!(summary.peak_users, 100);
}

#[tokio::test(start_paused = true)]
async fn active_users_follow_the_schedule_each_second() {
    let exec = compile_text(
        r#"
host: http://127.0.0.1:1
classes:
  A: { think-time: constant 100ms, tasks: { a: { path: /a } } }
load:
  stages:
    - { users: 50, spawn-rate: 10/s }
    - { duration: 5s }
    - { users: 0, duration: 5s }
"#,
    );
    let schedule = exec.schedule.clone();
    let summary = run(exec, FakeTransport::ok_after(Duration::from_millis(5))).await;
    assert!(summary.series.len() >= 15, "{}", summary.series.len());
    for second in &summary.series[..15] {
        // The most users running at once in the second: its start when ramping down.
        let wanted = schedule.users_at(Duration::from_secs(second.second)).max(
            schedule.users_at(Duration::from_secs(second.second + 1) - Duration::from_nanos(1)),
        );
        assert!(
            second.users.abs_diff(wanted) <= 1,
            "second {}: {} users running, schedule wants {wanted}",
            second.second,
            second.users
        );
    }
    assert_eq!(summary.peak_users, 50);
}

#[tokio::test(start_paused = true)]
async fn in_flight_requests_are_cancelled_after_the_grace_period() {
    let exec = compile_text(
        r#"
host: http://127.0.0.1:1
classes:
  A: { tasks: { slow: { path: /slow } } }
load: { users: 3, spawn-rate: 100/s, run-time: 1s, graceful-stop: 2s }
"#,
    );
    let summary = run(exec, FakeTransport::ok_after(Duration::from_secs(60))).await;
    assert_eq!(summary.total.count, 3);
    assert_eq!(summary.total.failures, 3);
    assert_eq!(summary.failures.len(), 1);
    assert_eq!(summary.failures[0].category, "cancelled");
    // 1 s of load, then the 2 s grace period, not the 60 s the requests would take.
    assert!(
        summary.duration >= Duration::from_secs(3)
            && summary.duration < Duration::from_millis(3100),
        "{:?}",
        summary.duration
    );
}

#[tokio::test(start_paused = true)]
async fn unexpected_statuses_are_failures_with_their_reason() {
    let exec = compile_text(
        r#"
host: http://127.0.0.1:1
classes:
  A:
    think-time: pacing 100ms
    tasks:
      book: { method: POST, path: /book, body: "{}", expect-status: [201, 409] }
load: { users: 1, run-time: 1s }
"#,
    );
    let calls = std::sync::atomic::AtomicU32::new(0);
    let transport = FakeTransport::new(Duration::from_millis(1), move |_| {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok([201, 409, 500][n as usize % 3])
    });
    let summary = run(exec, transport).await;
    assert_eq!(summary.total.count, 10);
    // Every third response is a 500; 201 and 409 are accepted.
    assert_eq!(summary.total.failures, 3);
    assert_eq!(summary.failures[0].reason, "unexpected status 500");
}

#[tokio::test(start_paused = true)]
async fn failure_reasons_that_vary_per_request_stay_bounded() {
    let exec = compile_text(
        r#"
host: http://127.0.0.1:1
classes:
  A:
    think-time: pacing 10ms
    tasks: { a: { path: /a } }
load: { users: 1, run-time: 30s }
"#,
    );
    let calls = std::sync::atomic::AtomicU32::new(0);
    let transport = FakeTransport::new(Duration::from_millis(1), move |_| {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Err(planrun::metrics::Failure::Other(format!("odd answer #{n}")))
    });
    let summary = run(exec, transport).await;
    assert_eq!(summary.total.count, 3000);
    assert_eq!(summary.total.failures, 3000);
    // 1,000 distinct reasons kept apart, then one entry for the other 2,000.
    assert_eq!(summary.failures.len(), 1001);
    assert_eq!(summary.failures[0].count, 2000);
    assert_eq!(
        summary.failures[0].reason,
        "other reasons (more than 1000 distinct ones)"
    );
}
