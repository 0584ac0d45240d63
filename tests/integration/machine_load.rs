//! A saturated machine is not a slow target: a run beside a CPU hog reports the machine's
//! CPU pressure and steal and how late users' think-time timers fired, in summary.json,
//! the terminal and the HTML report, whether or not they mark the run untrustworthy.
//! (Whether they trip depends on the machine the test runs on; the thresholds are tested
//! with fixed figures in `metrics::machine` and `metrics::honesty`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use planrun::compile::Overrides;
use planrun::report;

use crate::support::run_plan;

const PLAN: &str = r#"classes:
  A:
    think-time: constant 20ms
    tasks:
      health: { path: /api/v1/healthz }
load: { users: 20, spawn-rate: 100/s, run-time: 3s }
"#;

/// Busy threads, one more than the cores, spinning until `stop` or 2.5 s at most.
fn hog_the_cpus(stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<()>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let deadline = Instant::now() + Duration::from_millis(2500);
    (0..=cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    for i in 0..10_000u64 {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                    }
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_beside_a_cpu_hog_reports_the_machine_and_its_timers() {
    let stop = Arc::new(AtomicBool::new(false));
    let hogs = hog_the_cpus(stop.clone());
    let (outcome, _dir) = run_plan(PLAN, Overrides::default()).await;
    stop.store(true, Ordering::Relaxed);
    hogs.into_iter().for_each(|h| h.join().unwrap());

    let results = &outcome.results;
    let machine = results.machine.as_ref().expect("no `machine` section");
    // Unknown figures are written as `null`, not left out: a question about the JSON text.
    let json = serde_json::to_value(results).unwrap();
    for key in [
        "cpu_steal",
        "cpu_pressure",
        "load_per_core",
        "wall_s",
        "timers",
        "timer_lag_p99_ms",
        "timer_lag_max_ms",
    ] {
        assert!(
            json["machine"].get(key).is_some(),
            "`machine.{key}` missing: {:#}",
            json["machine"]
        );
    }
    // Present but unreadable where the kernel was booted with `psi=0`.
    if std::fs::read_to_string("/proc/pressure/cpu").is_ok() {
        // More busy threads than cores for 2.5 s: some task waited for a CPU.
        let pressure = machine.cpu_pressure.expect("pressure is readable here");
        assert!(pressure > 0.0 && pressure <= 1.0, "{pressure}");
    } else {
        assert!(
            machine.cpu_pressure.is_none(),
            "unknown, not 0: {machine:?}"
        );
    }
    if std::fs::read_to_string("/proc/stat").is_ok() {
        let steal = machine.cpu_steal.expect("steal is readable here");
        assert!((0.0..=1.0).contains(&steal), "{steal}");
    }
    // 20 users thinking 20 ms for 3 s: up to 3,000 timers (far fewer on a loaded
    // machine, still more than a hundred), and a loaded machine wakes some of them late.
    assert!(machine.timers > 100, "{machine:?}");
    let p99 = machine.timer_lag_p99_ms.unwrap();
    let max = machine.timer_lag_max_ms.unwrap();
    assert!(max > 0.0 && p99 <= max && max < 3000.0, "{machine:?}");

    // The figures are shown whether or not they trip.
    let terminal = report::terminal::render(&outcome.results);
    assert!(terminal.contains("machine: CPU pressure"), "{terminal}");
    assert!(terminal.contains("think-time timers late"), "{terminal}");
    let html = String::from_utf8(report::html::render(&outcome.results).unwrap()).unwrap();
    assert!(
        html.contains("CPU pressure"),
        "no machine figures in the HTML"
    );
}
