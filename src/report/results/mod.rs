//! `Results`: everything a report shows about one run, and the `summary.json` document
//! itself (serde), so `planrun report` can re-render every file from a saved JSON.
//!
//! Built once from the run (`Results::new`, in `build.rs`); every renderer reads only this.
//! Numbers are stored as the reports show them (latencies in milliseconds to the
//! microsecond, rates per second), so a saved file renders exactly like the live run.
//! Every field is typed: renderers read fields, never text stored for one of them. Layout
//! changes are additive within a `schema_version`: sections added later must be `Option`
//! or `#[serde(default)]` so that older files still load, and renderers show them only
//! when present. The JSON Schema, `docs/summary.schema.json`, is generated from these
//! types (`schema.rs`); `docs/results-schema.md` explains it.

mod build;
mod checks;
mod load;
mod request;
mod run;
mod schema;
mod scrub;
mod series;
mod slo;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::slo::{RunVerdict, Status};
pub(crate) use checks::{
    BusinessResult, CheckResult, FailureResult, OnStartResult, OutcomeConflictResult, OutcomeResult,
};
pub use load::{
    AbortedResult, ArrivalSpacing, ArrivalStageResult, ArrivalsResult, BurstResult, LatencyMeasure,
    MachineResult, RecoveryResult,
};
pub(crate) use request::{LatencyResult, Percentiles, RequestResult, percentile_key};
pub use run::{PlanInfo, RunInfo, StageResult, TlsResult};
pub use schema::{SCHEMA_FILE, schema};
pub(crate) use series::{IntervalResult, IntervalTotals, NameHistoryResult, RequestInterval};
pub use slo::SloResult;

/// Bumped on any incompatible change to the layout below.
/// Version 2 dropped the terminal's `notes` and typed every section: files of version 1
/// still load (`json::parse`).
pub const SCHEMA_VERSION: u32 = 2;

/// One run's results: the contents of `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Results {
    pub schema_version: u32,
    /// The planrun that measured the run.
    pub(crate) planrun_version: String,
    pub plan: PlanInfo,
    pub run: RunInfo,
    /// How `https://` connections were set up; absent for a plain-HTTP target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsResult>,
    /// The run did not fail: `verdict.status` is `pass` or `warn`.
    pub passed: bool,
    /// The run's verdict, with `--strict` applied, and its exit code: what every report
    /// shows. Files written before it was recorded get it from their SLOs (`json::parse`).
    #[serde(default = "RunVerdict::unrecorded")]
    pub verdict: RunVerdict,
    /// One verdict per SLO, in plan order.
    #[serde(default)]
    pub slos: Vec<SloResult>,
    /// Per request name, in plan order.
    pub requests: Vec<RequestResult>,
    /// All requests together (named `Aggregated`, as in Locust).
    pub aggregate: RequestResult,
    /// Failures by request name and reason, most frequent first.
    #[serde(default)]
    pub failures: Vec<FailureResult>,
    /// Named checks with their pass counts, in plan order (empty when the plan has none).
    #[serde(default)]
    pub checks: Vec<CheckResult>,
    /// Named outcomes with how often they held, in plan order.
    #[serde(default)]
    pub outcomes: Vec<OutcomeResult>,
    /// Business metrics (`metrics:` in the plan), in plan order.
    #[serde(default)]
    pub metrics: Vec<BusinessResult>,
    /// Responses that met more than one outcome of an `exclusive-outcomes` group, most
    /// frequent first (absent when none did).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcome_conflicts: Vec<OutcomeConflictResult>,
    /// Users whose `on-start` failed (absent when the plan has no `on-start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_start: Option<OnStartResult>,
    /// One entry per second of the run.
    pub series: Vec<IntervalResult>,
    /// What `latency` counts from: `corrected`, from when each request was due (open
    /// model, so a slow target cannot hide its queueing), or `service`, from when it was
    /// sent (closed model).
    #[serde(default)]
    pub latency_measure: LatencyMeasure,
    /// Open-model runs: the arrivals planned, started and dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<ArrivalsResult>,
    /// The plan's bursts, as they went.
    #[serde(default)]
    pub bursts: Vec<BurstResult>,
    /// The recovery probe after the load, when the plan has one and the load ran to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryResult>,
    /// An `abort` SLO stopped the run early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<AbortedResult>,
    /// planrun kept the schedule it was asked to keep (absent from files written before
    /// it judged itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trustworthy: Option<bool>,
    /// Why the results cannot be trusted; empty when they can.
    #[serde(default)]
    pub untrustworthy_reasons: Vec<String>,
    /// planrun's CPU time over the run's wall time, per worker thread, 0..=1 (`null`
    /// where it could not be read).
    #[serde(default)]
    pub(crate) cpu_busy: Option<f64>,
    /// The machine's load and how late users' timers fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<MachineResult>,
}

impl Results {
    /// The run's verdict in a word: `verdict.status`.
    pub(crate) fn status(&self) -> Status {
        self.verdict.status
    }

    /// The SLOs that fail the run: FAILs, and WARNs under `--strict`.
    pub(crate) fn failed_slos(&self) -> impl Iterator<Item = &SloResult> {
        self.slos.iter().filter(|s| self.verdict.fails(s.status))
    }

    /// One line for headings: `smoke: all 3 SLOs passed`, `smoke: 1 of 3 SLOs failed`.
    pub(crate) fn headline(&self) -> String {
        let interrupted = if self.run.interrupted {
            " (interrupted)"
        } else {
            ""
        };
        format!("{}: {}{interrupted}", self.plan.name, self.verdict.reason())
    }

    /// The verdict line every report leads with: `FAILED: smoke: 1 of 3 SLOs failed`.
    pub(crate) fn verdict_line(&self) -> String {
        format!("{}: {}", self.verdict.word(), self.headline())
    }

    /// The verdict an older `summary.json` implies: its SLOs' statuses, not strict (it did
    /// not record `--strict`).
    pub(crate) fn judged_from_slos(&self) -> RunVerdict {
        RunVerdict::judge(
            self.slos.iter().map(|s| s.status),
            false,
            self.aborted.is_some(),
            self.run.interrupted,
        )
    }
}

#[cfg(test)]
pub(crate) mod fixture;
