//! Metrics: `Event`s from the engine → `RunSummary`.
//!
//! One recorder task owns every histogram; workers only send small `Sample`s over a
//! channel, so nothing on the request path takes a lock. Memory is bounded by the number
//! of request names, not by run length: histograms and counters, never sample lists
//! (the per-second series holds a few numbers a second).

mod business;
mod failure_log;
mod recorder;
mod sample;
mod summary;

pub use business::{BusinessValue, CheckStats, Inspected, OutcomeStats};
pub use recorder::{EventSender, LiveSnapshot, Recorder, recorder};
pub use sample::{Event, Failure, Sample};
pub use summary::{
    FailureCount, LATENCY_MAX_US, LATENCY_SIGFIG, RequestStats, RunSummary, SecondStats,
    new_histogram,
};
