//! `Results`: everything a report shows about one run, and the `summary.json` document
//! itself (serde), so `planrun report` can re-render every file from a saved JSON.
//!
//! Built once from the run (`Results::new`, in `build.rs`); every renderer reads only this.
//! Numbers are stored as the reports show them (latencies in milliseconds to the
//! microsecond, rates per second), so a saved file renders exactly like the live run.
//! Layout changes are additive within a `schema_version`: sections added later must be
//! `Option` or `#[serde(default)]` so that older files still load, and renderers show them
//! only when present. The schema is documented in `docs/results-schema.md`.

mod build;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::metrics::PERCENTILES;
pub use crate::slo::Status;
use crate::slo::{Level, Unit, WindowVerdict};

fn critical() -> Level {
    Level::Critical
}

/// Bumped on any incompatible change to the layout below.
pub const SCHEMA_VERSION: u32 = 1;

/// One run's results: the contents of `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub schema_version: u32,
    /// The planrun that measured the run.
    pub planrun_version: String,
    pub plan: PlanInfo,
    pub run: RunInfo,
    /// Every SLO passed.
    pub passed: bool,
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
    /// One entry per second of the run.
    pub series: Vec<IntervalResult>,
    /// What open-model and time-aware runs add, in planrun's words for the terminal:
    /// service time beside corrected latency, arrivals, bursts, recovery, an early stop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Open-model and time-aware sections (`arrivals`, `windows`, `bursts`, `recovery`,
    /// `honesty`, `aborted`), as documented in docs/results-schema.md; absent otherwise.
    #[serde(flatten)]
    pub open_model: serde_json::Map<String, serde_json::Value>,
}

/// The plan that was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanInfo {
    pub name: String,
    /// The plan file as given on the command line.
    pub file: String,
    /// The target's base URL.
    pub host: String,
    /// The seed every random choice derived from.
    pub seed: u64,
    /// The plan as run: after `extends`, `--set` and `--host`.
    pub resolved: serde_json::Value,
}

/// When and how long the run went, and with how many users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    #[serde(with = "rfc3339_millis")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "rfc3339_millis")]
    pub ended_at: DateTime<Utc>,
    /// From the start to the last response, graceful stop included.
    pub duration_s: f64,
    /// Stopped early by Ctrl-C or SIGTERM.
    pub interrupted: bool,
    pub peak_users: u32,
    /// Users per class at the peak.
    pub users_by_class: IndexMap<String, u32>,
    pub stages: Vec<StageResult>,
}

/// One load stage as it ran (cut at the end of the run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageResult {
    pub name: String,
    pub start_s: f64,
    pub end_s: f64,
    pub from_users: u32,
    pub to_users: u32,
}

/// One SLO's verdict. Reports render it from the texts and `status` alone, so any kind of
/// SLO shows up everywhere without renderer changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloResult {
    /// The SLO as written, with its scope: `pre-reserve: p95 < 3s`.
    pub slo: String,
    /// `all requests`, a request name, or a business metric's name.
    pub scope: String,
    /// `p95` (any `pNN`), `mean`, `max`, `error-rate`, `throughput`, or for a business
    /// metric `rate` or `count`.
    pub metric: String,
    /// `<`, `<=`, `>` or `>=`.
    pub comparison: String,
    /// The measured value in `unit`; `null` when nothing was measured.
    pub measured: Option<f64>,
    pub threshold: f64,
    pub unit: Unit,
    /// The measured value as people read it (`23.4ms`, `0.42%`), or `no requests`.
    pub measured_text: String,
    /// The threshold as people read it (`3s`).
    pub threshold_text: String,
    /// False only for a FAIL (a breached `critical` SLO).
    pub passed: bool,
    /// `target` (a breach WARNs) or `critical` (a breach FAILs).
    #[serde(default = "critical")]
    pub level: Level,
    /// For SLOs over windows, a stage or a drift: where the measured value comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowVerdict>,
    pub status: Status,
}

/// Statistics of one request name, or of all requests together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestResult {
    pub name: String,
    /// The HTTP method (empty for the aggregate).
    pub method: String,
    /// Requests completed, failed ones included.
    pub count: u64,
    pub failures: u64,
    /// Requests per second over the whole run.
    pub rps: f64,
    pub failures_per_s: f64,
    /// Mean response body size in bytes.
    pub average_content_bytes: f64,
    #[serde(flatten)]
    pub latency: LatencyResult,
    /// Open-model runs: the service time (sent → answered) beside the corrected latency.
    #[serde(flatten)]
    pub open_model: serde_json::Map<String, serde_json::Value>,
}

/// A latency distribution: summary numbers plus the histogram they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyResult {
    /// `null` when no request was sent.
    pub min_ms: Option<f64>,
    pub mean_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub percentiles_ms: Percentiles,
    /// Base64 of hdrhistogram's V2 serialisation, in microseconds: lets runs be merged
    /// and other percentiles computed without losing precision.
    pub histogram: String,
}

/// Latency at each of `PERCENTILES` in milliseconds, keyed `"50"` … `"99.99"`, `"100"`;
/// values are `null` when nothing was measured.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percentiles(pub IndexMap<String, Option<f64>>);

impl Percentiles {
    /// Pairs `values` with `PERCENTILES`, in order.
    pub fn new(values: [Option<f64>; PERCENTILES.len()]) -> Self {
        Self(
            PERCENTILES
                .iter()
                .zip(values)
                .map(|(&p, value)| (percentile_key(p), value))
                .collect(),
        )
    }

    /// The value at percentile `p`, if it was measured.
    pub fn get(&self, p: f64) -> Option<f64> {
        self.0.get(&percentile_key(p)).copied().flatten()
    }
}

/// `50`, `99.9`, `100`: a percentile as keys and column headers write it.
pub fn percentile_key(p: f64) -> String {
    // f64's Display drops a zero fraction: 50.0 prints as `50`.
    p.to_string()
}

/// Failures of one request name for one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureResult {
    pub name: String,
    pub method: String,
    /// `status`, `timeout`, `connect`, `dns`, `tls`, `connection`, `invalid-http`, `body`,
    /// `template`, `cancelled`, `extract`, `check` or `other` (`metrics::Failure::category`).
    pub category: String,
    /// The reason in words (`unexpected status 500`).
    pub reason: String,
    pub count: u64,
    /// First and last seen, in seconds from the start of the run.
    pub first_s: f64,
    pub last_s: f64,
}

/// A named check of a request's response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub request: String,
    pub name: String,
    pub passed: u64,
    pub failed: u64,
    /// Passed over run, in 0..=1; `null` when the check never ran.
    pub pass_rate: Option<f64>,
}

/// How often a named outcome held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeResult {
    pub request: String,
    pub name: String,
    pub count: u64,
}

/// A business metric's value at the end of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessResult {
    pub name: String,
    /// `rate` or `count`.
    pub kind: String,
    pub description: Option<String>,
    /// The outcomes counted (`pre-reserve.created`).
    pub outcomes: Vec<String>,
    /// How many times those outcomes held.
    pub count: u64,
    /// For a rate: the attempts of the requests the outcomes belong to.
    pub attempts: Option<u64>,
    /// A rate as a fraction (`null` with no attempts), or the count.
    pub value: Option<f64>,
}

/// One second of the run, by completion time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalResult {
    /// Seconds from the start (this interval is `[second, second + 1)`).
    pub second: u64,
    /// Requests completed in this second.
    pub requests: u64,
    pub failures: u64,
    /// This second's p50, p95 and max; 0 when no request completed in it.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// The most users running at once during this second.
    pub users: u32,
    /// This second's latency at every percentile (`null`s when none completed).
    pub percentiles_ms: Percentiles,
    /// The run so far, at the end of this second.
    pub total: IntervalTotals,
    /// Per request name that completed requests in this second.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub by_request: IndexMap<String, RequestInterval>,
    /// Only for a run with `--csv-full-history`: every request name in plan order, then
    /// `Aggregated`, as Locust's full history writes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<NameHistoryResult>,
}

/// One request name (or `Aggregated`) at the end of one second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameHistoryResult {
    pub name: String,
    /// Empty for `Aggregated`.
    pub method: String,
    /// The run so far.
    pub total: IntervalTotals,
    /// Latency over the ten seconds ending with this one (`null`s when none completed).
    pub window_percentiles_ms: Percentiles,
}

/// The run from its start to the end of one second (Locust's `Total …` columns).
/// Latencies are 0 before the first response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalTotals {
    pub count: u64,
    pub failures: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub median_ms: f64,
    pub max_ms: f64,
    pub average_content_bytes: f64,
    /// Latency at every percentile over the run so far (`null`s before the first
    /// response): Locust's default `stats_history.csv` percentiles.
    #[serde(default)]
    pub percentiles_ms: Percentiles,
}

/// One request name in one second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestInterval {
    pub requests: u64,
    pub failures: u64,
    /// `null` when every request of this second failed before being sent.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

impl SloResult {
    /// The SLO as reports name it: a target's breach only warns, so targets say so.
    pub fn title(&self) -> String {
        match self.level {
            Level::Target => format!("{} (target)", self.slo),
            Level::Critical => self.slo.clone(),
        }
    }
}

impl Results {
    /// PASS when every SLO passed (or there are none), else the worst verdict.
    pub fn status(&self) -> Status {
        if self.slos.iter().any(|s| s.status.is_failure()) {
            Status::Fail
        } else {
            Status::Pass
        }
    }

    /// The SLOs that failed.
    pub fn failed_slos(&self) -> impl Iterator<Item = &SloResult> {
        self.slos.iter().filter(|s| s.status.is_failure())
    }

    /// One line for headings: `smoke: 1 of 3 SLOs failed`, `smoke: all 3 SLOs passed`.
    /// Why the results cannot be trusted (planrun could not keep its schedule); empty
    /// when they can.
    pub fn untrustworthy_reasons(&self) -> Vec<String> {
        self.open_model
            .get("untrustworthy_reasons")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    pub fn headline(&self) -> String {
        let failed = self.failed_slos().count();
        let warned = self
            .slos
            .iter()
            .filter(|s| s.status == Status::Warn)
            .count();
        let total = self.slos.len();
        let mut verdict = match (total, failed, warned) {
            (0, _, _) => "no SLOs to check".to_owned(),
            (_, 0, w) if w > 0 => "no SLO failed".to_owned(),
            (1, 0, _) => "the SLO passed".to_owned(),
            (1, _, _) => "the SLO failed".to_owned(),
            (_, 0, _) => format!("all {total} SLOs passed"),
            _ => format!("{failed} of {total} SLOs failed"),
        };
        if warned > 0 {
            verdict.push_str(&format!(", {warned} missed their target (WARN)"));
        }
        let interrupted = if self.run.interrupted {
            " (interrupted)"
        } else {
            ""
        };
        format!("{}: {verdict}{interrupted}", self.plan.name)
    }
}

/// RFC 3339 in UTC to the millisecond (`2026-11-26T18:58:42.123Z`), the precision kept.
mod rfc3339_millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
pub(crate) mod fixture;
