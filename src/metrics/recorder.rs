//! The recorder task: folds `Event`s into histograms, counters and the per-second series,
//! publishes a `LiveSnapshot` each second for the progress display, and logs failures to
//! stderr through a `FailureLog` (a line per reason, then counts; never one per request).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::history_window::HistoryWindow;
use super::honesty::process_cpu_time;
use super::machine::MachineSnapshot;
use super::series::Series;
use super::summary::RunSummary;
use super::tally::Tally;
use crate::compile::ExecPlan;
use crate::engine::{EngineOutcome, Event, EventSender};

/// Where the recorder's failure lines go. By default stderr; with a live progress bar,
/// above the bar, so a line never lands in the middle of it.
pub type LinePrinter = Arc<dyn Fn(&str) + Send + Sync>;

/// Prints to stderr; a closed stderr (a terminal gone with SIGHUP) must not stop the
/// recorder, which still has the results to hand over.
pub fn stderr_printer() -> LinePrinter {
    Arc::new(|line: &str| {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    })
}

/// What the progress display shows, refreshed every second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSnapshot {
    pub(crate) elapsed: Duration,
    pub(crate) users: u32,
    pub(crate) requests: u64,
    pub(crate) failures: u64,
    /// Requests completed in the last full second.
    pub(crate) last_second_requests: u64,
    /// p95 latency of the last full second, in microseconds.
    pub(crate) last_second_p95_us: u64,
}

/// The running recorder: `finish` waits for the engine's senders to close.
pub struct Recorder {
    task: JoinHandle<Tally>,
    live: watch::Receiver<LiveSnapshot>,
    started_at: DateTime<Utc>,
    abort: CancellationToken,
    cpu_at_start: Option<Duration>,
    machine_at_start: MachineSnapshot,
}

/// Starts the recorder for `exec`. Sample times are offsets from `run_start`. With
/// `spill_dir`, the per-second series waits there, in an unnamed file, rather than in
/// memory (see `Series`).
pub fn recorder(
    exec: &ExecPlan,
    run_start: Instant,
    spill_dir: Option<&Path>,
    printer: LinePrinter,
) -> (EventSender, Recorder) {
    recorder_with(exec, run_start, spill_dir, printer, false)
}

/// `recorder`, and with `full_history` each second also keeps every request name's
/// running totals and ten-second percentiles (`SecondStats::history`, for
/// `--csv-full-history`).
pub fn recorder_with(
    exec: &ExecPlan,
    run_start: Instant,
    spill_dir: Option<&Path>,
    printer: LinePrinter,
    full_history: bool,
) -> (EventSender, Recorder) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let (live_tx, live) = watch::channel(LiveSnapshot::default());
    let abort = CancellationToken::new();
    let series = spill_dir.map_or_else(Series::in_memory, Series::spilled_into);
    let mut tally = Tally::new(exec, series, printer, abort.clone());
    tally.history = full_history.then(HistoryWindow::default);
    let task = tokio::spawn(run(tally, receiver, live_tx, run_start));
    let recorder = Recorder {
        task,
        live,
        started_at: Utc::now(),
        abort,
        cpu_at_start: process_cpu_time(),
        machine_at_start: MachineSnapshot::take(),
    };
    (sender, recorder)
}

impl Recorder {
    /// Live numbers for a progress display.
    pub(crate) fn live(&self) -> watch::Receiver<LiveSnapshot> {
        self.live.clone()
    }

    /// Cancelled when an `abort` SLO is breached: the engine should stop the load.
    pub fn abort_signal(&self) -> CancellationToken {
        self.abort.clone()
    }

    /// Waits until every sender is dropped, then summarises the run as the engine says it
    /// ended: its duration, whether a signal stopped it, and the recovery probe's finding.
    pub async fn finish(self, engine: EngineOutcome) -> RunSummary {
        let duration = engine.duration;
        let tally = match self.task.await {
            Ok(tally) => tally,
            // The recorder does no I/O and has no panicking paths; if it ever did panic,
            // propagating is right: a summary built from a partial tally would lie.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        let cpu_busy = match (self.cpu_at_start, process_cpu_time()) {
            (Some(start), Some(end)) if !duration.is_zero() => {
                // The runtime may have fewer workers than the machine has cores (one, for
                // a light load): busy is measured against what planrun could use.
                let threads = tokio::runtime::Handle::current().metrics().num_workers();
                Some((end - start).as_secs_f64() / duration.as_secs_f64() / threads as f64)
            }
            _ => None,
        };
        let machine = self.machine_at_start.load_since(duration);
        tally.into_summary(self.started_at, engine, cpu_busy, machine)
    }
}

/// How often the recorder drains the engine's events. Draining on a tick, rather than
/// waiting on the channel, means a send never wakes the recorder: at 2,000 requests a
/// second that was four cross-thread wake-ups per request (arrival, users ×2, sample), a
/// third of planrun's futex calls. 50 ms keeps the tick itself cheap in a run that is
/// mostly idle (20 wake-ups a second). Events wait at most this long; every second is
/// closed only after draining, so the per-second series is as before.
const DRAIN_EVERY: Duration = Duration::from_millis(50);

async fn run(
    mut tally: Tally,
    mut events: mpsc::UnboundedReceiver<Event>,
    live: watch::Sender<LiveSnapshot>,
    run_start: Instant,
) -> Tally {
    let mut next_second = run_start + Duration::from_secs(1);
    let mut drain = tokio::time::interval(DRAIN_EVERY);
    drain.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let now = drain.tick().await;
        loop {
            match events.try_recv() {
                Ok(event) => tally.record(event),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    let lines = tally.log.finish();
                    tally.print(lines);
                    return tally;
                }
            }
        }
        if now >= next_second {
            let elapsed = now.saturating_duration_since(run_start);
            tally.close_seconds_before(elapsed.as_secs());
            live.send_replace(tally.snapshot(elapsed));
            let lines = tally.log.tick(elapsed);
            tally.print(lines);
            next_second = run_start + Duration::from_secs(elapsed.as_secs() + 1);
        }
    }
}
