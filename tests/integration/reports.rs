//! Reports of real runs: every file exists and every figure agrees across them, the CSVs
//! read with Python's csv module have Locust's exact headers, junit.xml validates and has
//! one `<failure>` per failing SLO, and `planrun report` reproduces the files byte for byte.
//! Also the per-second statistics behind `stats_history.csv`, in virtual time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use planrun::engine::{self, FakeTransport, StopSignal};
use planrun::metrics;
use planrun::report::{Exports, FILES, Status};
use planrun::sample_api::SampleApiConfig;
use planrun::{Outcome, RunOptions};

use crate::support::{compile_text, results, write_plan};

/// Two request names, 10% injected 500s, two SLOs that pass and two that cannot.
const PLAN: &str = r#"
name: reports-check
seed: 5
classes:
  A:
    think-time: constant 20ms
    tasks:
      health: { weight: 3, path: /api/v1/healthz }
      list: { weight: 1, path: /api/v1/accommodations }
load: { users: 4, spawn-rate: 100/s, run-time: 3s, graceful-stop: 2s }
slos:
  - error-rate < 50%
  - { request: health, check: p95 < 1us }
  - p95 < 10s
  - throughput > 100000/s
"#;

struct Run {
    outcome: Outcome,
    /// Holds the plan, the reports and the exports.
    dir: tempfile::TempDir,
}

impl Run {
    fn file(&self, name: &str) -> PathBuf {
        self.outcome.report_dir.join(name)
    }

    fn text(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

async fn run_with_exports() -> Run {
    let plan = write_plan("plan.yaml", PLAN);
    let dir = plan.dir;
    let options = RunOptions {
        exports: Exports {
            csv_prefix: Some(dir.path().join("locust/run")),
            html: Some(dir.path().join("copy.html")),
            step_summary: Some(dir.path().join("step-summary.md")),
            ..Exports::default()
        },
        sample_api: Some(SampleApiConfig {
            error_rate: 0.1,
            seed: 5,
            ..SampleApiConfig::default()
        }),
        ..crate::support::options(plan.path.clone(), dir.path().join("reports"))
    };
    std::fs::write(dir.path().join("step-summary.md"), "earlier step\n").unwrap();
    let outcome = crate::support::run(options).await;
    Run { outcome, dir }
}

/// The three CSVs as Python's csv module reads them: file name → rows (header first).
fn read_csvs_with_python(dir: &Path) -> BTreeMap<String, Vec<Vec<String>>> {
    let script = r#"
import csv, json, sys
out = {}
for name in ["stats.csv", "stats_history.csv", "failures.csv"]:
    with open(sys.argv[1] + "/" + name, newline="") as f:
        out[name] = list(csv.reader(f))
print(json.dumps(out))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .output()
        .expect("python3 runs (the tests need it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

const STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,\
    Average Response Time,Min Response Time,Max Response Time,Average Content Size,\
    Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,\
    50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,\
    Total Failure Count,Total Median Response Time,Total Average Response Time,\
    Total Min Response Time,Total Max Response Time,Total Average Content Size";
const FAILURES_HEADER: &str = "Method,Name,Error,Occurrences,First Seen,Last Seen";

fn header(text: &str) -> Vec<String> {
    text.split(',').map(str::to_owned).collect()
}

/// A latency as Locust's CSVs write it: whole milliseconds, `N/A` if not measured.
fn whole_ms(ms: Option<f64>) -> String {
    ms.map_or_else(|| "N/A".to_owned(), |ms| format!("{}", ms.round() as u64))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_file_is_written_and_every_figure_agrees() {
    let run = run_with_exports().await;
    let outcome = &run.outcome;
    assert_eq!(outcome.exit_code(), planrun::exit_code::SLO_BREACHED);
    for (name, _) in FILES {
        assert!(run.file(name).is_file(), "{name} missing");
    }

    // summary.json is the results the run reported.
    let results = results(&outcome.report_dir);
    assert_eq!(results, outcome.results);
    let aggregate = &results.aggregate;
    let (count, failures) = (aggregate.count, aggregate.failures);
    assert!(count > 100, "only {count} requests");
    assert!(failures > 0, "the 10% injected 500s did not show");
    // The histogram decodes, with every request in it (all of them were sent).
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&aggregate.latency.histogram)
        .unwrap();
    let histogram: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut &bytes[..])
        .unwrap();
    assert_eq!(histogram.len(), count);

    // stats.csv, read by Python: Locust's header, one row per name, Aggregated last.
    let csvs = read_csvs_with_python(&outcome.report_dir);
    let stats = &csvs["stats.csv"];
    assert_eq!(stats[0], header(STATS_HEADER));
    // Sorted by name, then method, as Locust sorts its entries.
    let mut rows: Vec<_> = results.requests.iter().collect();
    rows.sort_by_key(|r| (&r.name, &r.method));
    assert_eq!(stats.len(), 1 + rows.len() + 1);
    for (row, request) in stats[1..]
        .iter()
        .zip(rows.iter().copied().chain([aggregate]))
    {
        let name = &request.name;
        let latency = &request.latency;
        assert_eq!(&row[1], name);
        assert_eq!(row[0], request.method, "{name}");
        assert_eq!(row[2], request.count.to_string(), "{name}");
        assert_eq!(row[3], request.failures.to_string(), "{name}");
        assert_eq!(row[4], whole_ms(latency.percentiles_ms.get(50.0)), "{name}");
        assert_eq!(
            row[16],
            whole_ms(latency.percentiles_ms.get(95.0)),
            "{name}"
        );
        assert_eq!(
            row[21],
            whole_ms(latency.percentiles_ms.get(100.0)),
            "{name}"
        );
        let max: f64 = row[7].parse().unwrap();
        assert_eq!(Some(max), latency.max_ms, "{name}");
    }
    assert_eq!(stats.last().unwrap()[0], "", "Aggregated has an empty Type");

    // stats_history.csv: one row per second with the run so far, as Locust writes it.
    let history = &csvs["stats_history.csv"];
    assert_eq!(history[0], header(HISTORY_HEADER));
    let series = &results.series;
    assert_eq!(history.len() - 1, series.len());
    let last = history.last().unwrap();
    assert_eq!(last[17], count.to_string(), "Total Request Count");
    assert_eq!(last[18], failures.to_string(), "Total Failure Count");
    let timestamps: Vec<i64> = history[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        timestamps.windows(2).all(|w| w[1] == w[0] + 1),
        "{timestamps:?}"
    );
    for (row, second) in history[1..].iter().zip(series) {
        assert_eq!(row[3], "Aggregated");
        assert_eq!(row[6], whole_ms(second.total.percentiles_ms.get(50.0)));
        assert_eq!(row[11], whole_ms(second.total.percentiles_ms.get(95.0)));
    }

    // failures.csv: Locust's header; occurrences add up to the failures.
    let failure_rows = &csvs["failures.csv"];
    assert_eq!(failure_rows[0], header(FAILURES_HEADER));
    let occurrences: u64 = failure_rows[1..]
        .iter()
        .map(|r| r[3].parse::<u64>().unwrap())
        .sum();
    assert_eq!(occurrences, failures);
    assert!(
        failure_rows[1..]
            .iter()
            .all(|r| r[2] == "unexpected status 500")
    );

    // junit.xml: one testcase per SLO, one failure per failing SLO, saying measured vs threshold.
    let junit = run.text("junit.xml");
    let failing: Vec<_> = results
        .slos
        .iter()
        .filter(|s| s.status == Status::Fail)
        .collect();
    assert_eq!(failing.len(), 2);
    assert_eq!(junit.matches("<testcase ").count(), 4);
    assert_eq!(junit.matches("<failure ").count(), 2);
    assert!(junit.contains(r#"<testsuite name="reports-check" tests="4" failures="2""#));
    for slo in &failing {
        let message = format!(
            r#"message="FAIL: measured {} vs threshold {} {}"#,
            slo.measured_text,
            slo.comparison.replace('<', "&lt;").replace('>', "&gt;"),
            slo.threshold_text
        );
        assert!(junit.contains(&message), "{message} not in\n{junit}");
    }
    validate_junit(&run.file("junit.xml"));

    // summary.md: the same counts and verdicts; appended to the CI summary.
    let markdown = run.text("summary.md");
    assert!(markdown.starts_with("## ❌ FAILED: reports-check: 2 of 4 SLOs failed"));
    assert!(
        markdown.contains(&format!("{count} requests")),
        "{markdown}"
    );
    let aggregate_row = format!("| **Aggregated** |  | {count} | {failures} (");
    assert!(markdown.contains(&aggregate_row), "{markdown}");
    assert_eq!(markdown.matches("| ❌ FAIL |").count(), 2);
    assert_eq!(
        std::fs::read_to_string(run.dir.path().join("step-summary.md")).unwrap(),
        format!("earlier step\n\n{markdown}")
    );

    // report.html: the verdict and the figures.
    let html = run.text("report.html");
    assert!(html.contains("<div class=\"word\">FAILED</div>"));
    assert!(
        html.contains(&format!("<dd>{count} (")),
        "request count in the facts"
    );
    assert_eq!(
        html.matches("<span class=\"badge fail\">FAIL</span>")
            .count(),
        2
    );

    // The Locust-style exports are the same bytes.
    for (export, name) in [
        ("locust/run_stats.csv", "stats.csv"),
        ("locust/run_stats_history.csv", "stats_history.csv"),
        ("locust/run_failures.csv", "failures.csv"),
        ("copy.html", "report.html"),
    ] {
        assert_eq!(
            std::fs::read(run.dir.path().join(export)).unwrap(),
            std::fs::read(run.file(name)).unwrap(),
            "{export}"
        );
    }
}

/// Against the JUnit schema CI tools read, with xmllint (`.ci/run` installs it; without
/// it, outside CI, only well-formedness is checked, by quick-xml's reader).
fn validate_junit(path: &Path) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/fixtures/junit.xsd");
    if let Some(xmllint) = crate::support::required_tool("xmllint") {
        let output = Command::new(xmllint)
            .args(["--noout", "--schema"])
            .arg(&schema)
            .arg(path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "xmllint: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("junit.xml is not well-formed: {e}"),
        }
    }
}

fn planrun() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_planrun"));
    command.env_remove("GITHUB_STEP_SUMMARY");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planrun_report_reproduces_every_file_byte_for_byte() {
    let run = run_with_exports().await;
    let original = &run.outcome.report_dir;
    let copy = run.dir.path().join("rerendered");
    planrun()
        .arg("report")
        .arg(original.join("summary.json"))
        .arg("--out")
        .arg(&copy)
        .timeout(Duration::from_secs(30))
        .assert()
        .code(0)
        .stdout(predicates::str::contains("2 of 4 SLOs failed"));
    for (name, _) in FILES {
        assert!(
            std::fs::read(original.join(name)).unwrap() == std::fs::read(copy.join(name)).unwrap(),
            "{name} differs after `planrun report`"
        );
    }

    // A second time into the same directory would replace another run's files: refused.
    planrun()
        .arg("report")
        .arg(original)
        .arg("--out")
        .arg(&copy)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("already holds `summary.json`"));

    // In place (a run directory with only its summary.json, as a CI artifact might be).
    for (name, _) in &FILES[1..] {
        std::fs::remove_file(copy.join(name)).unwrap();
    }
    planrun().arg("report").arg(&copy).assert().code(0);
    for (name, _) in FILES {
        assert_eq!(
            std::fs::read(original.join(name)).unwrap(),
            std::fs::read(copy.join(name)).unwrap(),
            "{name} differs after an in-place `planrun report`"
        );
    }
}

/// Each second's own percentiles, its per-name counts, and the run's running totals, with
/// a fake transport under tokio's paused clock: exact numbers.
#[tokio::test(start_paused = true)]
async fn each_second_has_its_percentiles_and_the_running_totals() {
    let exec = Arc::new(compile_text(
        r#"
host: http://127.0.0.1:1
classes:
  A:
    think-time: pacing 100ms
    tasks:
      a: { path: /a }
load: { users: 1, run-time: 3s }
"#,
    ));
    let start = tokio::time::Instant::now();
    let (events, recorder) = metrics::recorder(&exec, start, None, metrics::stderr_printer());
    let transport = FakeTransport::ok_after(Duration::from_millis(10));
    let outcome = engine::run(
        exec.clone(),
        Arc::new(transport),
        events,
        start,
        StopSignal::default(),
    )
    .await;
    let summary = recorder.finish(outcome).await;
    let full: Vec<_> = summary.series.iter().filter(|s| s.requests > 0).collect();
    assert_eq!(full.len(), 3, "{:?}", summary.series);
    let mut running = 0;
    for second in full {
        // One request every 100 ms, each taking 10 ms of virtual time.
        assert_eq!(second.requests, 10, "second {}", second.second);
        running += second.requests;
        let percentiles = second.percentiles_us.expect("requests completed");
        assert!(
            percentiles.iter().all(|&us| (10_000..10_100).contains(&us)),
            "{percentiles:?}"
        );
        assert_eq!(second.total.requests, running);
        assert!((10_000..10_100).contains(&second.total.p50_us));
        assert_eq!(second.by_request.len(), 1);
        assert_eq!(second.by_request[0].requests, 10);
        assert_eq!(second.by_request[0].p95_us, Some(percentiles[5]));
    }
    assert_eq!(running, summary.total.count);
}

/// Every second in which requests were sent counts the users that sent them: the last
/// second of load, too, which the users leave as the run ends (it showed 0 users while
/// its ~93 requests were sent, a ramp-down the plan does not have).
#[tokio::test(start_paused = true)]
async fn the_last_second_counts_the_users_that_were_running() {
    let exec = Arc::new(compile_text(
        r#"
host: http://127.0.0.1:1
classes:
  A:
    think-time: pacing 100ms
    tasks:
      a: { path: /a }
load: { users: 3, spawn-rate: 1000/s, run-time: 3s }
"#,
    ));
    let start = tokio::time::Instant::now();
    let (events, recorder) = metrics::recorder(&exec, start, None, metrics::stderr_printer());
    let transport = FakeTransport::ok_after(Duration::from_millis(10));
    let outcome = engine::run(
        exec.clone(),
        Arc::new(transport),
        events,
        start,
        StopSignal::default(),
    )
    .await;
    let summary = recorder.finish(outcome).await;
    let users: Vec<(u64, u64, u32)> = summary
        .series
        .iter()
        .map(|s| (s.second, s.requests, s.users))
        .collect();
    assert!(users.len() >= 3, "{users:?}");
    for &(second, requests, running) in &users {
        if requests > 0 {
            assert_eq!(running, 3, "second {second}: {users:?}");
        }
    }
}
