//! The Locust-style CSVs mean what Locust's mean (checked against locust/stats.py of the
//! 2.x series): `stats_history.csv` holds the run's cumulative percentiles in each row, so
//! a low-rate run with empty seconds still gives a continuous p95 column (the seed plan's
//! pandas snippet plots it); `--csv-full-history` adds a row per request name before the
//! `Aggregated` one; `failures.csv` has Locust's six columns.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use planrun::sample_api::SampleApiConfig;

use crate::support::{results, write_plan};

/// One user, one request every 1.5 s for 6 s: seconds 2 and 5 complete no request.
const LOW_RATE: &str = r#"
name: low-rate
seed: 3
classes:
  A:
    think-time: constant 1500ms
    tasks:
      health: { weight: 2, path: /api/v1/healthz }
      list: { weight: 1, path: /api/v1/accommodations }
load: { users: 1, spawn-rate: 10/s, run-time: 6s, graceful-stop: 1s }
"#;

const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,\
    50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,\
    Total Failure Count,Total Median Response Time,Total Average Response Time,\
    Total Min Response Time,Total Max Response Time,Total Average Content Size";
const FAILURES_HEADER: &str = "Method,Name,Error,Occurrences,First Seen,Last Seen";

/// `file` read by pandas when it is installed (as the seed's snippet does), else by
/// Python's csv module: the header, then the rows, every cell as text.
fn read_csv(file: &Path) -> Vec<Vec<String>> {
    let script = r#"
import csv, json, sys
try:
    import pandas as pd
    df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
    rows = [list(df.columns)] + df.values.tolist()
except ImportError:
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.reader(f))
print(json.dumps(rows))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("python3 runs (the tests need it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

fn header(text: &str) -> Vec<String> {
    text.split(',').map(str::to_owned).collect()
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The single run directory under `out`.
fn run_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_rate_history_has_a_continuous_cumulative_p95() {
    let plan = write_plan("plan.yaml", LOW_RATE);
    let options = planrun::RunOptions {
        sample_api: Some(SampleApiConfig {
            error_rate: 0.5,
            seed: 11,
            ..SampleApiConfig::default()
        }),
        // The injected 500s would fail the preflight request too.
        preflight: false,
        ..crate::support::options(plan.path.clone(), plan.dir.path().join("reports"))
    };
    let outcome = crate::support::run(options).await;
    let series = &outcome.results.series;
    assert!(
        series.iter().any(|s| s.requests == 0),
        "the run must have empty seconds to test anything: {series:?}"
    );

    let history = read_csv(&outcome.report_dir.join("stats_history.csv"));
    assert_eq!(history[0], header(HISTORY_HEADER));
    let p95 = column(&history[0], "95%");
    let total = column(&history[0], "Total Request Count");
    let mut seen_a_response = false;
    for row in &history[1..] {
        assert_eq!(row[3], "Aggregated", "one row per second by default");
        seen_a_response |= row[total] != "0";
        if seen_a_response {
            let value: u64 = row[p95]
                .parse()
                .unwrap_or_else(|_| panic!("95% is `{}` after the first response", row[p95]));
            assert!(value < 10_000, "{value}");
        } else {
            assert_eq!(row[p95], "N/A", "before any response, as Locust writes it");
        }
    }
    assert!(seen_a_response);
    // The last row's percentiles are the whole run's, as in stats.csv's Aggregated row.
    let stats = read_csv(&outcome.report_dir.join("stats.csv"));
    let aggregated = stats.last().unwrap();
    let last = history.last().unwrap();
    for name in ["50%", "95%", "100%"] {
        assert_eq!(
            last[column(&history[0], name)],
            aggregated[column(&stats[0], name)],
            "{name}"
        );
    }

    // failures.csv: Locust 2.x's columns, times as `YYYY-MM-DDTHH:MM:SSZ` in UTC.
    let failures = read_csv(&outcome.report_dir.join("failures.csv"));
    assert_eq!(failures[0], header(FAILURES_HEADER));
    assert!(failures.len() > 1, "the injected 500s did not show");
    let stamp = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").unwrap();
    for row in &failures[1..] {
        assert!(stamp.is_match(&row[4]), "{row:?}");
        assert!(stamp.is_match(&row[5]), "{row:?}");
        assert!(row[4] <= row[5], "{row:?}");
    }
}

#[test]
fn csv_full_history_adds_a_row_per_request_name() {
    let plan = write_plan("plan.yaml", LOW_RATE);
    let out = plan.dir.path().join("reports");
    let prefix = plan.dir.path().join("locust/run");
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .arg(&plan.path)
        .args(["--sample-api", "--progress", "off", "--csv-full-history"])
        .arg("--out")
        .arg(&out)
        .arg("--csv")
        .arg(&prefix)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0);
    let dir = run_dir(&out);
    let results = results(&dir);
    let seconds = results.series.len();
    let history = read_csv(&dir.join("stats_history.csv"));
    assert_eq!(history[0], header(HISTORY_HEADER));
    // Names sorted as Locust sorts its entries, then `Aggregated`, every second.
    assert_eq!(history.len() - 1, 3 * seconds);
    let total = column(&history[0], "Total Request Count");
    for rows in history[1..].chunks(3) {
        let names: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
        assert_eq!(names, ["health", "list", "Aggregated"]);
        assert_eq!(rows[0][2], "GET");
        assert_eq!(rows[2][2], "");
        assert!(
            rows.iter().all(|r| r[0] == rows[0][0]),
            "one timestamp a second"
        );
        let sum: u64 = rows[..2]
            .iter()
            .map(|r| r[total].parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum.to_string(), rows[2][total]);
    }
    let last = &history[history.len() - 3..];
    assert_eq!(last[2][total], results.aggregate.count.to_string());
    // The export is the same file.
    assert_eq!(
        std::fs::read(plan.dir.path().join("locust/run_stats_history.csv")).unwrap(),
        std::fs::read(dir.join("stats_history.csv")).unwrap()
    );
}
