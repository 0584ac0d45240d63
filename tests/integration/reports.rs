//! Reports of real runs. For now, the per-second statistics behind `stats_history.csv`,
//! in virtual time.

use std::sync::Arc;
use std::time::Duration;

use planrun::engine::{self, FakeTransport, StopSignal};
use planrun::metrics;

use crate::support::compile_text;

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
    let (events, recorder) = metrics::recorder(&exec, start);
    let transport = FakeTransport::ok_after(Duration::from_millis(10));
    let outcome = engine::run(
        exec.clone(),
        Arc::new(transport),
        events,
        start,
        StopSignal::default(),
    )
    .await;
    let summary = recorder.finish(outcome.duration, outcome.interrupted).await;
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
