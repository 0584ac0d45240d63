//! Metrics: `Event`s from the engine → `RunSummary`.
//!
//! One recorder task owns every histogram; workers only send small `Sample`s over a
//! channel, so nothing on the request path takes a lock. Memory is bounded by the number
//! of request names, not by run length: histograms and counters, never sample lists
//! (the per-second series is spilled to a temporary file as the run goes).

mod business;
mod failure_log;
mod history_window;
mod honesty;
mod machine;
mod recorder;
mod series;
mod summary;
mod tally;
mod window_ring;
mod windows;

pub use crate::engine::{
    BurstOutcome, Event, EventSender, Failure, Inspected, LocalLimit, OnStartEvent,
    RecoveryOutcome, Sample,
};
pub(crate) use business::{BusinessValue, CheckStats, OutcomeConflict, OutcomeStats};
pub use machine::{MachineLoad, PRESSURE_LIMIT, STEAL_LIMIT};
pub use recorder::{LinePrinter, LiveSnapshot, Recorder, recorder, recorder_with, stderr_printer};
pub use summary::{
    FailureCount, LATENCY_MAX_US, LATENCY_SIGFIG, NameHistory, NoResponse, OnStartStats,
    PERCENTILES, RequestSecond, RequestStats, RunSummary, RunningTotals, SecondStats,
    new_histogram, percentile_set,
};
pub(crate) use windows::{AbortReason, WindowOutcome};
