//! A run ends on time, whatever the rate and whatever the target sends: within
//! `run-time` + `graceful-stop` + a small constant, measured on the real binary. A rate
//! planrun could not dispatch is refused by `check`, naming the bound.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use planrun::report::Results;

use crate::support::{check_file, results, write_plan};

/// Runs `planrun PLAN` (with `args`), returning its output and wall time.
fn run_binary(plan: &std::path::Path, args: &[&str]) -> (Output, Duration) {
    let out = plan.parent().unwrap().join("reports");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .arg(plan)
        .args(["--no-preflight", "--progress", "off", "--out"])
        .arg(&out)
        .args(args)
        .output()
        .expect("run planrun");
    (output, started.elapsed())
}

#[test]
fn a_rate_past_the_bound_is_refused_by_check_naming_it() {
    for rate in ["1e12/s", "1e300/s", "1000001/s", "60000001/min"] {
        let plan = write_plan(
            "fast.yaml",
            &format!(
                "host: http://127.0.0.1:9\nclasses:\n  A:\n    tasks:\n      t: {{ path: /x }}\nload: {{ rate: {rate}, run-time: 2s }}\n"
            ),
        );
        let (code, stderr) = check_file(&plan.path);
        assert_eq!(code, Some(3), "{rate}: {stderr}");
        assert!(stderr.contains("fast.yaml:6:15"), "{rate}: {stderr}");
        assert!(stderr.contains("1,000,000/s"), "{rate}: {stderr}");
    }
    // Per-task rates add up: two streams of 600,000/s are over the bound together.
    let plan = write_plan(
        "fast.yaml",
        "host: http://127.0.0.1:9\nclasses:\n  A:\n    tasks:\n      t: { path: /x }\n      u: { path: /y }\nload: { rate: { t: 600000/s, u: 600000/s }, run-time: 2s }\n",
    );
    let (code, stderr) = check_file(&plan.path);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("1,000,000/s"), "{stderr}");
}

#[test]
fn the_largest_accepted_rate_ends_within_run_time_grace_and_a_second() {
    let plan = write_plan(
        "fastest.yaml",
        "host: http://127.0.0.1:9\nclasses:\n  A:\n    tasks:\n      health: { path: /api/v1/healthz }\nload: { rate: 1000000/s, run-time: 2s, graceful-stop: 1s, max-in-flight: 100 }\n",
    );
    let (output, took) = run_binary(&plan.path, &["--sample-api"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        took < Duration::from_secs(2 + 1 + 1),
        "took {took:?}\n{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The run's own verdict (0, or 4 for an untrustworthy load), never a crash.
    assert!(
        matches!(output.status.code(), Some(0 | 4)),
        "{:?}\n{stdout}\n{stderr}",
        output.status
    );
    // What could not be sent on time was dropped and counted, not silently lost.
    let results = summary(&plan.path);
    let arrivals = results.arrivals.as_ref().expect("an open-model run");
    assert!(
        (1_990_000..=2_000_000).contains(&arrivals.due),
        "{arrivals:?}"
    );
    assert!(arrivals.dropped > 0, "{arrivals:?}");
}

/// The one run's `summary.json` under the plan's `reports/`, read as planrun reads it.
fn summary(plan: &std::path::Path) -> Results {
    let reports = plan.parent().unwrap().join("reports");
    let run = std::fs::read_dir(&reports)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    results(&run)
}

/// Serves every connection a `200` with a chunked body that never ends, written as fast
/// as the socket takes it.
fn endless_chunked_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            std::thread::spawn(move || {
                let mut head = [0u8; 4096];
                let _ = socket.read(&mut head);
                let _ = socket.write_all(
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n",
                );
                let chunk = [b"4000\r\n".as_slice(), &[b'x'; 0x4000], b"\r\n"].concat();
                while socket.write_all(&chunk).is_ok() {}
            });
        }
    });
    addr
}

#[test]
fn an_endless_chunked_body_is_cut_at_the_end_of_the_grace_period() {
    let addr = endless_chunked_server();
    let plan = write_plan(
        "chunked.yaml",
        &format!(
            "host: http://{addr}\ntimeout: 60s\nclasses:\n  A:\n    tasks:\n      stream: {{ path: /stream }}\nload: {{ users: 4, spawn-rate: 100/s, run-time: 1s, graceful-stop: 500ms }}\n"
        ),
    );
    let (output, took) = run_binary(&plan.path, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 1 s of load, 0.5 s of grace, and start-up and reports: well under 0.5 s more.
    assert!(
        took < Duration::from_millis(2000),
        "took {took:?}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let results = summary(&plan.path);
    let categories: Vec<&str> = results
        .failures
        .iter()
        .map(|f| f.category.as_str())
        .collect();
    assert_eq!(categories, ["cancelled"], "{:?}", results.failures);
}
