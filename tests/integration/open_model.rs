//! Open-model (arrival-rate) runs under tokio's paused clock with `FakeTransport`: exact
//! arrival counts, drops at the in-flight cap, latency corrected for coordinated
//! omission, windowed SLOs and `abort`.

use std::sync::Arc;
use std::time::Duration;

use planrun::compile::{ExecPlan, Overrides};
use planrun::engine::{self, FakeTransport, StopSignal};
use planrun::metrics::{self, RunSummary};
use planrun::slo;

use crate::support::compile_text;

/// Runs the engine with the recorder's abort wired in, as `planrun::run` does.
async fn run(exec: &Arc<ExecPlan>, transport: FakeTransport) -> RunSummary {
    let start = tokio::time::Instant::now();
    let (events, recorder) = metrics::recorder(exec, start, None, metrics::stderr_printer());
    let stop = StopSignal {
        abort: recorder.abort_signal(),
        ..StopSignal::default()
    };
    let outcome = engine::run(exec.clone(), Arc::new(transport), events, start, stop).await;
    recorder.finish(outcome).await
}

fn plan(load: &str) -> Arc<ExecPlan> {
    Arc::new(compile_text(&format!(
        r#"
host: http://127.0.0.1:1
seed: 5
classes:
  A: {{ tasks: {{ a: {{ path: /a }} }} }}
{load}
"#
    )))
}

fn sent(transport: &FakeTransport, key: &str) -> u64 {
    transport.sent().get(key).copied().unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn a_thousand_a_minute_for_a_minute_starts_exactly_a_thousand() {
    let exec = plan("load: { rate: 1000/min, run-time: 60s }");
    let transport = FakeTransport::ok_after(Duration::from_millis(20));
    let summary = run(&exec, transport.clone()).await;
    assert_eq!(sent(&transport, "GET /a"), 1000);
    assert_eq!(summary.total.count, 1000);
    let arrivals = summary.honesty.arrivals.as_ref().expect("open model");
    assert_eq!((arrivals.due, arrivals.dropped), (1000, 0));
    assert!(
        summary.honesty.trustworthy(),
        "{:?}",
        summary.honesty.reasons
    );
    // Evenly spaced: 16 or 17 requests complete in every second.
    for second in &summary.series[..60] {
        assert!((16..=17).contains(&second.requests), "{second:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn fractional_rates_send_their_share() {
    let exec = plan("load: { rate: 2.5/s, run-time: 10s }");
    let transport = FakeTransport::ok_after(Duration::from_millis(5));
    run(&exec, transport.clone()).await;
    assert_eq!(sent(&transport, "GET /a"), 25);

    let exec = plan("load: { rate: 1/min, run-time: 5m }");
    let transport = FakeTransport::ok_after(Duration::from_millis(5));
    run(&exec, transport.clone()).await;
    assert_eq!(sent(&transport, "GET /a"), 5);
}

#[tokio::test(start_paused = true)]
async fn a_ramp_sends_the_area_under_its_rate() {
    // 10/s → 100/s over 60 s, then 100/s for 10 s: 3300 + 1000.
    let exec = plan(
        "load: { rate: 10/s, stages: [ { name: ramp, rate: 100/s, duration: 60s }, { name: top, duration: 10s } ] }",
    );
    let transport = FakeTransport::ok_after(Duration::from_millis(1));
    let summary = run(&exec, transport.clone()).await;
    assert_eq!(sent(&transport, "GET /a"), 4300);
    // ∫₀³⁰ (10 + 1.5 t) dt = 975 arrivals in the first 30 s (completions spill by 1 ms).
    let first_half: u64 = summary.series[..30].iter().map(|s| s.requests).sum();
    assert!(first_half.abs_diff(975) <= 1, "{first_half}");
}

#[tokio::test(start_paused = true)]
async fn a_spike_ramps_up_holds_and_drops_to_nothing() {
    let exec = plan(
        "load:\n  stages:\n    - { name: spike-up, rate: 100/s, duration: 10s }\n    - { name: spike-hold, duration: 2m }\n    - { name: spike-down, rate: 0/s, duration: 10s }",
    );
    let transport = FakeTransport::ok_after(Duration::from_millis(1));
    run(&exec, transport.clone()).await;
    // 500 ramping up, 12,000 holding, 500 ramping down.
    assert_eq!(sent(&transport, "GET /a"), 13_000);
}

#[tokio::test(start_paused = true)]
async fn poisson_arrivals_keep_the_mean_rate() {
    let exec = plan("load: { rate: 100/s, run-time: 60s, arrivals: poisson }");
    let transport = FakeTransport::ok_after(Duration::from_millis(1));
    run(&exec, transport.clone()).await;
    let n = sent(&transport, "GET /a");
    // 6000 expected, standard deviation √6000 ≈ 77: four of them either side.
    assert!(n.abs_diff(6000) < 310, "{n}");
    assert_ne!(n, 6000, "seeded Poisson arrivals are not evenly spaced");
}

#[tokio::test(start_paused = true)]
async fn arrivals_beyond_max_in_flight_are_dropped_and_counted() {
    // 10/s for 10 s, each holding its slot 1.95 s, 5 slots: arrivals 0–4 start, then
    // every slot frees just before arrival 20, 21, …: 5 of every 20 start.
    let exec = plan("load: { rate: 10/s, run-time: 10s, max-in-flight: 5 }");
    let transport = FakeTransport::ok_after(Duration::from_millis(1950));
    let summary = run(&exec, transport.clone()).await;
    let arrivals = summary.honesty.arrivals.as_ref().expect("open model");
    assert_eq!(arrivals.due, 100);
    assert_eq!(arrivals.dropped, 75);
    assert_eq!(sent(&transport, "GET /a"), 25);
    assert_eq!(summary.peak_users, 5);
    assert!(!summary.honesty.trustworthy());
    assert!(summary.honesty.reasons[0].starts_with("75 of 100 arrivals were dropped"));
}

#[tokio::test(start_paused = true)]
async fn waiting_for_a_session_is_latency_but_not_service_time() {
    // One session, 10 arrivals 100 ms apart, each served in 250 ms: arrival k is sent at
    // 250k ms, 150k ms after it was due.
    let exec = plan(
        "load: { rate: 10/s, run-time: 1s, sessions: 1 }\nslos: [ service-p99 < 300ms over any 2s, p99 < 300ms over any 2s, service-p99 < 300ms ]",
    );
    let transport = FakeTransport::ok_after(Duration::from_millis(250));
    let summary = run(&exec, transport).await;
    let verdicts = slo::evaluate(&exec.slos, &summary);
    assert_eq!(verdicts[0].status, slo::Status::Pass, "{:?}", verdicts[0]);
    assert_eq!(verdicts[1].status, slo::Status::Fail, "{:?}", verdicts[1]);
    assert_eq!(verdicts[2].status, slo::Status::Pass, "{:?}", verdicts[2]);
    assert_eq!(summary.total.count, 10);
    let near = |us: u64, want: u64| us.abs_diff(want) <= want / 500 + 1;
    assert!(
        near(summary.total.service.max(), 250_000),
        "{}",
        summary.total.service.max()
    );
    assert!(near(summary.total.service.min(), 250_000));
    assert!(
        near(summary.total.latency.max(), 1_600_000),
        "{}",
        summary.total.latency.max()
    );
    assert!(near(summary.total.latency.min(), 250_000));
}

#[tokio::test(start_paused = true)]
async fn per_task_rates_drive_each_task() {
    let exec = Arc::new(compile_text(
        r#"
host: http://127.0.0.1:1
classes:
  A: { tasks: { a: { path: /a }, b: { path: /b } } }
  B: { tasks: { c: { path: /c } } }
load: { rate: { a: 600/min, B.c: 2/s }, run-time: 10s }
"#,
    ));
    let transport = FakeTransport::ok_after(Duration::from_millis(3));
    run(&exec, transport.clone()).await;
    assert_eq!(sent(&transport, "GET /a"), 100);
    assert_eq!(sent(&transport, "GET /b"), 0);
    assert_eq!(sent(&transport, "GET /c"), 20);
}

#[tokio::test(start_paused = true)]
async fn the_mix_follows_class_then_task_weights() {
    let exec = Arc::new(compile_text(
        r#"
host: http://127.0.0.1:1
seed: 3
classes:
  R: { weight: 70, tasks: { list: { weight: 5, path: /list }, book: { weight: 5, path: /book } } }
  W: { weight: 20, tasks: { w: { path: /w } } }
  M: { weight: 10, tasks: { m: { path: /m } } }
load: { rate: 100/s, run-time: 100s }
"#,
    ));
    let transport = FakeTransport::ok_after(Duration::from_millis(3));
    run(&exec, transport.clone()).await;
    let share = |k| sent(&transport, k) as f64 / 10_000.0;
    assert_eq!(transport.sent().values().sum::<u64>(), 10_000);
    for (key, want) in [
        ("GET /list", 0.35),
        ("GET /book", 0.35),
        ("GET /w", 0.2),
        ("GET /m", 0.1),
    ] {
        assert!((share(key) - want).abs() < 0.02, "{key}: {}", share(key));
    }
}

/// 10/s for 60 s; every request answered between 20 s and 30 s fails.
fn failing_between_20_and_30s() -> FakeTransport {
    let start = tokio::time::Instant::now();
    FakeTransport::new(Duration::from_millis(10), move |_| {
        let t = start.elapsed();
        if t >= Duration::from_secs(20) && t < Duration::from_secs(30) {
            Ok(500)
        } else {
            Ok(200)
        }
    })
}

#[tokio::test(start_paused = true)]
async fn a_windowed_slo_reports_its_worst_window() {
    let exec = plan(
        r#"load:
  rate: 10/s
  stages: [ { name: early, duration: 40s }, { name: late, duration: 20s } ]
slos:
  - error-rate < 5% over any 10s
  - error-rate < 20%
  - { target: "error-rate < 1%", during: late }
"#,
    );
    let summary = run(&exec, failing_between_20_and_30s()).await;
    assert_eq!(summary.total.count, 600);
    assert_eq!(summary.total.failures, 100);
    let verdicts = slo::evaluate(&exec.slos, &summary);
    // The worst 10 s window is exactly the failing one: 100 %.
    assert_eq!(verdicts[0].status, slo::Status::Fail);
    assert_eq!(verdicts[0].measured, Some(1.0));
    let window = verdicts[0].window.as_ref().expect("window");
    assert_eq!((window.from_s, window.to_s), (20.0, 30.0));
    // The first breaching window is 11 s–21 s (1 failure in 10 s would be 1 %; by 21 s
    // ten requests have failed: 10 %).
    assert_eq!(window.first_breach_s, Some(21.0));
    // Over the whole run, 1/6 of the requests failed: under 20 %.
    assert_eq!(verdicts[1].status, slo::Status::Pass);
    // The late stage had no failures.
    assert_eq!(verdicts[2].status, slo::Status::Pass);
    assert_eq!(verdicts[2].measured, Some(0.0));
    assert!(summary.aborted.is_none());
}

#[tokio::test(start_paused = true)]
async fn an_abort_slo_stops_the_run_after_its_grace() {
    let exec = plan(
        r#"load: { rate: 10/s, run-time: 60s, graceful-stop: 1s }
slos:
  - { check: "error-rate < 5% over any 10s", abort: true, abort-grace: 3s }
"#,
    );
    let summary = run(&exec, failing_between_20_and_30s()).await;
    let aborted = summary.aborted.as_ref().expect("aborted");
    // First breach at 21 s, still breached 3 s later.
    assert_eq!(aborted.at_us, 24_000_000);
    assert!(!summary.interrupted);
    // The load stops within a second of the abort (the recorder's tick), plus the grace.
    assert!(
        summary.duration < Duration::from_secs(26),
        "{:?}",
        summary.duration
    );
    assert!(summary.total.count < 260, "{}", summary.total.count);
    let verdicts = slo::evaluate(&exec.slos, &summary);
    assert_eq!(verdicts[0].status, slo::Status::Fail);
}

#[tokio::test(start_paused = true)]
async fn a_burst_releases_its_requests_at_once_and_reports_their_spread() {
    let exec = Arc::new(compile_text(
        r#"
host: http://127.0.0.1:1
classes:
  A: { tasks: { a: { path: /a }, book: { method: POST, path: /book, body: "{}" } } }
load:
  rate: { a: 1/s }
  run-time: 5s
  bursts: [ { request: book, size: 100, at: 2s } ]
"#,
    ));
    let calls = std::sync::atomic::AtomicU32::new(0);
    let transport = FakeTransport::new(Duration::from_millis(40), move |r| {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Every other pre-reservation collides (409 is not accepted here).
        Ok(if r.url.path() == "/book" && n % 2 == 1 {
            409
        } else {
            201
        })
    });
    let summary = run(&exec, transport.clone()).await;
    assert_eq!(sent(&transport, "POST /book"), 100);
    assert_eq!(sent(&transport, "GET /a"), 5);
    let burst = &summary.bursts[0];
    assert_eq!((burst.size, burst.at_us), (100, 2_000_000));
    assert!((45..=55).contains(&burst.succeeded), "{}", burst.succeeded);
    // Released together: every one answered after the 40 ms the fake takes.
    assert!(
        burst.fastest_us.abs_diff(40_000) < 100,
        "{}",
        burst.fastest_us
    );
    assert!(
        burst.slowest_us.abs_diff(40_000) < 100,
        "{}",
        burst.slowest_us
    );
    assert_eq!(summary.requests[1].count, 100);
}

#[tokio::test(start_paused = true)]
async fn the_recovery_probe_times_the_return_to_health() {
    // Health fails until 3 s after the 5 s load ends, then recovers.
    let exec = plan(
        r#"load:
  rate: 1/s
  run-time: 5s
  graceful-stop: 1s
  recovery: { request: a, successes: 3, interval: 500ms, timeout: 1m }
slos:
  - recovery < 5s
  - recovery < 2s
"#,
    );
    let start = tokio::time::Instant::now();
    let transport = FakeTransport::new(Duration::from_millis(10), move |_| {
        Ok(if start.elapsed() < Duration::from_secs(8) {
            503
        } else {
            200
        })
    });
    let summary = run(&exec, transport).await;
    let recovery = summary.recovery.as_ref().expect("probed");
    let after = recovery.recovered_after.expect("recovered");
    // The load ends at 5.01 s; probes at +0, +0.5, … the first good one is sent at ~8 s.
    assert!(
        after >= Duration::from_millis(2990) && after < Duration::from_millis(3100),
        "{after:?}"
    );
    assert_eq!(recovery.probes, 6 + 3);
    // Probe requests are not part of the load's statistics.
    assert_eq!(summary.total.count, 5);
    let verdicts = slo::evaluate(&exec.slos, &summary);
    assert_eq!(verdicts[0].status, slo::Status::Pass);
    assert_eq!(verdicts[1].status, slo::Status::Fail);
}

#[tokio::test(start_paused = true)]
async fn a_rate_per_request_name_drives_the_task_sending_it() {
    let exec = Arc::new(compile_text(
        r#"
host: http://127.0.0.1:1
classes:
  A:
    tasks:
      book: { name: pre-reserve, method: POST, path: /book, body: "{}" }
      health: { path: /health }
load: { rate: { pre-reserve: 1000/min }, run-time: 30s }
"#,
    ));
    let transport = FakeTransport::ok_after(Duration::from_millis(3));
    run(&exec, transport.clone()).await;
    assert_eq!(sent(&transport, "POST /book"), 500);
    assert_eq!(sent(&transport, "GET /health"), 0);
}

#[tokio::test(start_paused = true)]
async fn an_abort_slo_stops_a_closed_model_run_too() {
    let exec = plan(
        r#"load: { users: 2, spawn-rate: 100/s, run-time: 60s, graceful-stop: 1s }
slos:
  - { check: "error-rate < 5% over any 5s", abort: true }
"#,
    );
    let summary = run(&exec, failing_between_20_and_30s()).await;
    let aborted = summary.aborted.as_ref().expect("aborted");
    // The first 5 s window with a failure ends at 21 s.
    assert_eq!(aborted.at_us, 21_000_000);
    assert!(
        summary.duration < Duration::from_secs(23),
        "{:?}",
        summary.duration
    );
}

/// The example plans' sample-API statuses: 201 for pre-reservations, 200 otherwise.
fn sample_like() -> FakeTransport {
    FakeTransport::new(Duration::from_millis(5), |r| {
        Ok(
            if r.method == "POST" && r.url.path().ends_with("prereserve") {
                201
            } else {
                200
            },
        )
    })
}

fn example(plan: &str, overrides: Overrides) -> Arc<ExecPlan> {
    let path = crate::support::repo().join("plans").join(plan);
    // The example plans sign webhooks with secrets from the environment.
    let overrides = Overrides {
        env_defaults: planrun::sample_api::SampleApiConfig::default().secret_env_defaults(),
        ..overrides
    };
    let loaded = planrun::plan::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    Arc::new(planrun::compile::compile(&loaded, &overrides).unwrap_or_else(|e| panic!("{e}")))
}

#[tokio::test(start_paused = true)]
async fn the_rate_plan_for_a_minute_starts_a_thousand_in_the_seed_mix_and_passes() {
    let exec = example(
        "rate.yaml",
        Overrides {
            run_time: Some(Duration::from_secs(60)),
            seed: Some(1),
            ..Overrides::default()
        },
    );
    let summary = run(&exec, sample_like()).await;
    assert_eq!(summary.total.count, 1000);
    // 70/20/10 classes, then task weights: list 5/11 of 70 %, whatsapp-text 90 % of 20 %…
    for (name, share) in [
        ("list-accommodations", 0.70 * 5.0 / 11.0),
        ("prereserve", 0.70 * 2.0 / 11.0),
        ("whatsapp-text", 0.18),
        ("mercadopago-payment", 0.10),
    ] {
        let count = summary.request(name).expect(name).count as f64;
        assert!((count / 1000.0 - share).abs() < 0.035, "{name}: {count}");
    }
    let verdicts = slo::evaluate(&exec.slos, &summary);
    assert!(
        verdicts.iter().all(|v| v.status == slo::Status::Pass),
        "{verdicts:#?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_spike_plan_spikes_bursts_and_recovers() {
    let exec = example(
        "spike.yaml",
        Overrides {
            seed: Some(4),
            ..Overrides::default()
        },
    );
    let summary = run(&exec, sample_like()).await;
    assert_eq!(summary.peak_users, 100);
    let burst = &summary.bursts[0];
    assert_eq!(
        (burst.size, burst.succeeded, burst.at_us),
        (100, 100, 10_000_000)
    );
    let recovery = summary.recovery.as_ref().expect("probed");
    assert_eq!(recovery.probes, 3);
    let verdicts = slo::evaluate(&exec.slos, &summary);
    assert!(
        verdicts.iter().all(|v| v.status == slo::Status::Pass),
        "{verdicts:#?}"
    );
    let hold = verdicts[0].window.as_ref().expect("stage window");
    assert_eq!((hold.from_s, hold.to_s), (10.0, 130.0));
}

#[tokio::test(start_paused = true)]
async fn the_recovery_probe_works_after_the_grace_period_cancelled_the_load() {
    // The last arrival (0.9 s) is still in flight at 1 s, when a 0 s grace cancels it;
    // the probe must not inherit that cancellation.
    let exec = plan(
        r#"load:
  rate: 10/s
  run-time: 1s
  graceful-stop: 0s
  recovery: { request: a, successes: 2, interval: 100ms }
"#,
    );
    let summary = run(&exec, FakeTransport::ok_after(Duration::from_millis(150))).await;
    assert_eq!(summary.total.failures, 1);
    assert_eq!(summary.failures[0].category, "cancelled");
    let recovery = summary.recovery.as_ref().expect("probed");
    assert_eq!(recovery.probes, 2);
    assert_eq!(recovery.recovered_after, Some(Duration::from_millis(150)));
}
