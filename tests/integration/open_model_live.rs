//! Open-model runs against the in-process sample API in real time: coordinated-omission
//! correction with the server freezing, and windowed SLOs with an error window, through
//! the library and through the binary (exit codes, results written).

use std::time::{Duration, Instant};

use assert_cmd::Command;
use planrun::compile::Overrides;
use planrun::report::results::LatencyMeasure;
use planrun::sample_api::{ErrorWindow, SampleApiConfig, Stall};
use planrun::slo::Status;
use planrun::{Outcome, exit_code};
use predicates::prelude::*;

use crate::support::{results, run_plan_with, write_plan};

async fn run_with(text: &str, config: SampleApiConfig) -> (Outcome, tempfile::TempDir) {
    run_plan_with(text, Overrides::default(), config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalling_server_shows_in_corrected_latency_not_in_service_time() {
    // 50/s over 4 sessions for 12 s; the server freezes 9–10 s. The four requests in
    // flight then wait the whole second; the ~50 arrivals due meanwhile wait for a
    // session, so only their corrected latency sees the freeze.
    let (outcome, _out) = run_with(
        r#"
seed: 1
classes:
  A: { tasks: { health: { path: /api/v1/healthz } } }
load: { rate: 50/s, run-time: 12s, sessions: 4 }
slos:
  - p99 < 500ms
  - service-p99 < 100ms
"#,
        SampleApiConfig {
            stall: Some(Stall::parse("1s/10s").expect("stall")),
            ..SampleApiConfig::default()
        },
    )
    .await;
    let total = &outcome.summary.total;
    assert!(total.count.abs_diff(600) <= 1, "{}", total.count);
    let ms = |us: u64| us as f64 / 1000.0;
    let corrected_p99 = ms(total.latency.value_at_quantile(0.99));
    let service_p99 = ms(total.service.value_at_quantile(0.99));
    let service_max = ms(total.service.max());
    assert!(corrected_p99 >= 850.0, "corrected p99 {corrected_p99}ms");
    assert!(service_p99 < 100.0, "service p99 {service_p99}ms");
    // The freeze did happen: the requests caught in it took about a second to serve.
    assert!(service_max >= 900.0, "service max {service_max}ms");
    // SLOs judge the corrected latency.
    assert_eq!(outcome.verdicts[0].status, Status::Fail);
    assert!(outcome.verdicts[0].measured.unwrap_or(0.0) >= 850_000.0);
    // …unless asked for the service time.
    assert_eq!(outcome.verdicts[1].status, Status::Pass);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_window_fails_the_windowed_slo_but_not_the_whole_run_one() {
    let (outcome, out) = run_with(
        r#"
seed: 2
classes:
  A: { tasks: { health: { path: /api/v1/healthz } } }
load: { rate: 50/s, run-time: 12s }
slos:
  - error-rate < 5% over any 4s
  - error-rate < 10%
  - { target: "p99 < 10us", critical: "p99 < 5s" }
"#,
        SampleApiConfig {
            error_window: Some(ErrorWindow::parse("20%@4s..8s").expect("window")),
            seed: 9,
            ..SampleApiConfig::default()
        },
    )
    .await;
    let summary = &outcome.summary;
    let rate = summary.total.failures as f64 / summary.total.count as f64;
    assert!((0.04..0.10).contains(&rate), "{rate}");
    let windowed = &outcome.verdicts[0];
    assert_eq!(windowed.status, Status::Fail);
    let worst = windowed.measured.expect("measured");
    assert!((0.12..0.30).contains(&worst), "worst window {worst}");
    let window = windowed.window.as_ref().expect("window");
    assert!(window.from_s >= 3.0 && window.to_s <= 9.0, "{window:?}");
    assert_eq!(outcome.verdicts[1].status, Status::Pass);
    // A missed target warns; the critical level holds, so the run fails only on the window.
    assert_eq!(outcome.verdicts[2].status, Status::Warn);
    assert_eq!(outcome.verdicts[3].status, Status::Pass);
    assert_eq!(outcome.exit_code(), exit_code::SLO_BREACHED);
    // What summary.json holds (`summary_schema` checks that it reads back as this).
    let results = &outcome.results;
    assert_eq!(results.slos[0].status, Status::Fail);
    assert_eq!(results.slos[2].status, Status::Warn);
    assert_eq!(results.slos[2].level, planrun::slo::Level::Target);
    let arrivals = results.arrivals.as_ref().expect("arrivals");
    assert_eq!((arrivals.due, arrivals.dropped), (600, 0));
    assert_eq!(arrivals.stages[0].from_per_s, 50.0);
    assert_eq!(results.latency_measure, LatencyMeasure::Corrected);
    let service = results.requests[0].service_percentiles_ms.as_ref();
    assert!(service.and_then(|s| s.get(99.0)).is_some());
    drop(out);
}

const ABORTING: &str = r#"
seed: 3
classes:
  A: { tasks: { health: { path: /api/v1/healthz } } }
load: { rate: 50/s, run-time: 60s, graceful-stop: 1s }
slos:
  - { check: "error-rate < 5% over any 10s", abort: true, abort-grace: 2s }
"#;

#[test]
fn an_abort_slo_stops_a_failing_run_early_with_exit_4_and_results_written() {
    // Errors jump to 20 % from 15 s to 45 s of a 60 s run.
    let plan = write_plan("abort.yaml", ABORTING);
    let reports = plan.dir.path().join("reports");
    let started = Instant::now();
    Command::new(env!("CARGO_BIN_EXE_planrun"))
        .arg(&plan.path)
        .args(["--sample-api", "--sample-error-window", "20%@15s..45s"])
        .args(["--progress", "off", "--out"])
        .arg(&reports)
        .timeout(Duration::from_secs(50))
        .assert()
        .code(4)
        .stdout(predicate::str::contains("STOPPED EARLY"))
        .stdout(predicate::str::contains("error-rate < 5% over any 10s"));
    // The windowed error rate passes 5 % a few seconds into the errors; 2 s of grace
    // and 1 s of graceful stop later the run has ended, far before 60 s.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let run_dir = std::fs::read_dir(&reports)
        .expect("reports")
        .next()
        .expect("a run directory")
        .expect("entry")
        .path();
    let results = results(&run_dir);
    let at = results.aborted.as_ref().expect("aborted").at_s;
    assert!((16.0..26.0).contains(&at), "aborted at {at}s");
    assert!(!results.passed);
}

#[test]
fn a_missed_target_exits_0_and_4_with_strict() {
    let plan = write_plan(
        "target.yaml",
        r#"
classes:
  A: { tasks: { health: { path: /api/v1/healthz } } }
load: { rate: 20/s, run-time: 1s }
slos:
  - { target: "p50 < 1us", critical: "p50 < 5s" }
"#,
    );
    let run = |strict: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_planrun"));
        command
            .arg(&plan.path)
            .args(["--sample-api", "--progress", "off", "--out"])
            .arg(plan.dir.path().join("reports"))
            .timeout(Duration::from_secs(30));
        if strict {
            command.arg("--strict");
        }
        command.assert()
    };
    run(false)
        .code(0)
        .stdout(predicate::str::contains("WARN  all requests: p50 < 1us"));
    run(true).code(4);
}
