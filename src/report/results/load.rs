//! What open-model and time-aware runs add, and whether planrun kept its schedule:
//! arrivals, bursts, the recovery probe, an early stop, trust and the machine's load.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::build::ms;
use crate::compile::{ExecPlan, Spacing};
use crate::metrics::{AbortReason, BurstOutcome, RecoveryOutcome, RunSummary};

/// How busy the machine running planrun was, and how late its users' timers fired
/// (`machine` in summary.json). `null` figures could not be read on that machine: they
/// are unknown, not zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MachineResult {
    /// CPU steal over all CPU time during the run, 0..=1 (`/proc/stat`).
    pub cpu_steal: Option<f64>,
    /// Share of the run during which some runnable task waited for a CPU, 0..=1
    /// (`/proc/pressure/cpu`, "some").
    pub cpu_pressure: Option<f64>,
    /// The 1-minute load average at the end of the run, per core.
    pub(crate) load_per_core: Option<f64>,
    /// The wall time the machine figures cover, in seconds.
    pub(crate) wall_s: f64,
    /// Think-time timers that fired (closed model).
    pub timers: u64,
    /// How late they fired: p99 and max, in milliseconds.
    pub timer_lag_p99_ms: Option<f64>,
    pub timer_lag_max_ms: Option<f64>,
}

/// What `latency` counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LatencyMeasure {
    /// From the instant each request was due (open model): corrected for coordinated
    /// omission.
    Corrected,
    /// From when each request was sent (closed model): the service time.
    #[default]
    Service,
}

/// How arrivals were spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArrivalSpacing {
    Uniform,
    Poisson,
}

/// An open-model run's arrivals: planned, started, dropped, and how late they started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArrivalsResult {
    pub(crate) spacing: ArrivalSpacing,
    /// Arrivals the plan asks for over the whole run.
    pub(crate) expected: f64,
    /// Arrivals in flight at most (`max-in-flight`).
    pub(crate) max_in_flight: u32,
    /// Sessions (cookie jars and variables) arrivals take turns with.
    pub(crate) sessions: u32,
    /// The arrival rate per stage (cut at the end of the run).
    pub stages: Vec<ArrivalStageResult>,
    /// Arrivals that came due, started, and were dropped (at `max-in-flight`, or too late).
    pub due: u64,
    pub started: u64,
    pub dropped: u64,
    /// How late the scheduler started arrivals: p99 and max, in milliseconds.
    pub(crate) lag_p99_ms: f64,
    pub(crate) lag_max_ms: f64,
}

/// One stage of an arrival-rate load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArrivalStageResult {
    pub(crate) name: String,
    pub(crate) start_s: f64,
    pub(crate) end_s: f64,
    /// Arrivals per second at the stage's start and end.
    pub from_per_s: f64,
    pub(crate) to_per_s: f64,
}

/// A burst: requests sent together at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BurstResult {
    /// The request sent.
    pub(crate) name: String,
    /// When, in seconds from the start.
    pub(crate) at_s: f64,
    pub(crate) size: u32,
    pub(crate) succeeded: u32,
    /// Latency of the fastest, median and slowest, in milliseconds.
    pub(crate) fastest_ms: f64,
    pub(crate) median_ms: f64,
    pub(crate) slowest_ms: f64,
}

/// The recovery probe polled after the load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecoveryResult {
    /// The request polled.
    pub(crate) request: String,
    /// Good answers in a row it waited for.
    pub(crate) successes: u32,
    /// Seconds after the load until they came; `null` when the probe gave up.
    pub(crate) recovered_after_s: Option<f64>,
    pub(crate) probes: u32,
}

/// Why an `abort` SLO stopped the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AbortedResult {
    /// The SLO as written.
    pub(crate) slo: String,
    /// When the run was stopped, in seconds from the start.
    pub at_s: f64,
    /// `error-rate 20% in 20s–30s, breached since 25s`.
    pub(crate) reason: String,
}

/// `None` unless the run was open-model.
pub(super) fn arrivals(exec: &ExecPlan, summary: &RunSummary) -> Option<ArrivalsResult> {
    let (arrivals, plan) = (summary.honesty.arrivals.as_ref()?, exec.arrivals.as_ref()?);
    let schedule = &exec.schedule;
    let stages = schedule
        .stages
        .iter()
        .filter(|s| s.start < schedule.total)
        .map(|s| {
            let end = s.end().min(schedule.total);
            ArrivalStageResult {
                name: s.name.clone(),
                start_s: s.start.as_secs_f64(),
                end_s: end.as_secs_f64(),
                from_per_s: plan.rate_at(s.start),
                to_per_s: plan.rate_at(end.saturating_sub(Duration::from_nanos(1))),
            }
        })
        .collect();
    Some(ArrivalsResult {
        spacing: match plan.spacing {
            Spacing::Uniform => ArrivalSpacing::Uniform,
            Spacing::Poisson => ArrivalSpacing::Poisson,
        },
        expected: plan.expected_total(),
        max_in_flight: plan.max_in_flight,
        sessions: plan.sessions,
        stages,
        due: arrivals.due,
        started: arrivals.started(),
        dropped: arrivals.dropped,
        lag_p99_ms: ms(arrivals.lag.value_at_quantile(0.99)),
        lag_max_ms: ms(arrivals.lag.max()),
    })
}

pub(super) fn burst(burst: &BurstOutcome) -> BurstResult {
    BurstResult {
        name: burst.name.clone(),
        at_s: burst.at_us as f64 / 1e6,
        size: burst.size,
        succeeded: burst.succeeded,
        fastest_ms: ms(burst.fastest_us),
        median_ms: ms(burst.median_us),
        slowest_ms: ms(burst.slowest_us),
    }
}

pub(super) fn recovery(recovery: &RecoveryOutcome) -> RecoveryResult {
    RecoveryResult {
        request: recovery.name.clone(),
        successes: recovery.successes,
        recovered_after_s: recovery.recovered_after.map(|d| d.as_secs_f64()),
        probes: recovery.probes,
    }
}

pub(super) fn aborted(aborted: &AbortReason) -> AbortedResult {
    AbortedResult {
        slo: aborted.slo.clone(),
        at_s: aborted.at_us as f64 / 1e6,
        reason: aborted.reason.clone(),
    }
}

/// The whole machine's load and how late users' timers fired, shown whether or not they
/// made the run untrustworthy; `None` where unknown.
pub(super) fn machine(summary: &RunSummary) -> MachineResult {
    let honesty = &summary.honesty;
    let machine = &honesty.machine;
    let timers = honesty.timer_lag.as_ref().filter(|h| !h.is_empty());
    let at = |q: f64| timers.map(|h| ms(h.value_at_quantile(q)));
    MachineResult {
        cpu_steal: machine.steal,
        cpu_pressure: machine.cpu_pressure,
        load_per_core: machine.load_per_core,
        wall_s: machine.wall.as_secs_f64(),
        timers: timers.map_or(0, |h| h.len()),
        timer_lag_p99_ms: at(0.99),
        timer_lag_max_ms: at(1.0),
    }
}
