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
use crate::slo::{Level, Unit, WindowVerdict};
pub use crate::slo::{RunVerdict, Status};

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
    /// The plan as run: after `extends`, `--set` and the flags that change it (`--host`,
    /// `-u`, `-r`, `-t`, `--seed`).
    pub resolved: serde_json::Value,
    /// The command line that ran it, quoted for a POSIX shell, secrets scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
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
    /// Stopped early by a signal (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT).
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

/// How busy the machine running planrun was, and how late its users' timers fired
/// (`machine` in summary.json). `null` figures could not be read on that machine: they
/// are unknown, not zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineResult {
    /// CPU steal over all CPU time during the run, 0..=1 (`/proc/stat`).
    pub cpu_steal: Option<f64>,
    /// Share of the run during which some runnable task waited for a CPU, 0..=1
    /// (`/proc/pressure/cpu`, "some").
    pub cpu_pressure: Option<f64>,
    /// The 1-minute load average at the end of the run, per core.
    pub load_per_core: Option<f64>,
    /// The wall time the machine figures cover, in seconds.
    pub wall_s: f64,
    /// Think-time timers that fired (closed model).
    pub timers: u64,
    /// How late they fired: p99 and max, in milliseconds.
    pub timer_lag_p99_ms: Option<f64>,
    pub timer_lag_max_ms: Option<f64>,
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
    /// False when this SLO fails the run: a FAIL, or a WARN under `--strict`.
    pub passed: bool,
    /// `target` (a breach WARNs) or `critical` (a breach FAILs).
    #[serde(default = "critical")]
    pub level: Level,
    /// For SLOs over windows, a stage or a drift: where the measured value comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowVerdict>,
    pub status: Status,
    /// Latency SLOs over the whole run: the responses `measured` is over (answered with
    /// any status, or timed out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses: Option<u64>,
    /// …and the requests left out for failing without a response (refused, reset, DNS,
    /// TLS, cancelled) or never being sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without_response: Option<u64>,
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
    /// `template`, `cancelled`, `extract`, `check`, `other` or `local-resources`
    /// (`metrics::Failure::category`).
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

/// Responses of a request that met several of its exclusive outcomes together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeConflictResult {
    pub request: String,
    /// The outcomes met together, in plan order.
    pub outcomes: Vec<String>,
    /// How many responses met exactly these together.
    pub count: u64,
}

/// Users whose `on-start` failed: they run no task until it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnStartResult {
    /// Users whose `on-start` failed at least once.
    pub users_failed: u64,
    /// Times a user ran its `on-start` again after a failure.
    pub retries: u64,
    /// Users that stopped after a failed `on-start` (`on-start-failure: stop`).
    pub users_stopped: u64,
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
    /// The measured value with what a latency is over: `23.4ms over 1234 responses`,
    /// `, 17 requests without a response left out` when some were.
    pub fn measured_over(&self) -> String {
        match (self.over(), self.measured) {
            (Some(over), Some(_)) => format!("{} {over}", self.measured_text),
            (Some(over), None) => format!("{} ({over})", self.measured_text),
            (None, _) => self.measured_text.clone(),
        }
    }

    /// What a whole-run latency SLO's value is over: `over 1234 responses, 17 requests
    /// without a response left out` (`0 responses, …` when nothing was measured).
    pub fn over(&self) -> Option<String> {
        let (responses, without) = (self.responses?, self.without_response?);
        let plural = |n: u64, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        let mut text = if self.measured.is_some() {
            format!("over {}", plural(responses, "response"))
        } else {
            plural(responses, "response")
        };
        if without > 0 {
            text.push_str(&format!(
                ", {} without a response left out",
                plural(without, "request")
            ));
        }
        Some(text)
    }

    /// The SLO as reports name it: a target's breach only warns, so targets say so.
    pub fn title(&self) -> String {
        match self.level {
            Level::Target => format!("{} (target)", self.slo),
            Level::Critical => self.slo.clone(),
        }
    }
}

impl Results {
    /// The run's verdict in a word: `verdict.status`.
    pub fn status(&self) -> Status {
        self.verdict.status
    }

    /// The SLOs that fail the run: FAILs, and WARNs under `--strict`.
    pub fn failed_slos(&self) -> impl Iterator<Item = &SloResult> {
        self.slos.iter().filter(|s| self.verdict.fails(s.status))
    }

    /// Why the results cannot be trusted (planrun could not keep its schedule); empty
    /// when they can.
    pub fn untrustworthy_reasons(&self) -> Vec<String> {
        self.open_model
            .get("untrustworthy_reasons")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// The machine's load and timer lateness, when the run recorded them.
    pub fn machine(&self) -> Option<MachineResult> {
        self.open_model
            .get("machine")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// One line for headings: `smoke: all 3 SLOs passed`, `smoke: 1 of 3 SLOs failed`.
    pub fn headline(&self) -> String {
        let interrupted = if self.run.interrupted {
            " (interrupted)"
        } else {
            ""
        };
        format!("{}: {}{interrupted}", self.plan.name, self.verdict.reason())
    }

    /// The verdict line every report leads with: `FAILED: smoke: 1 of 3 SLOs failed`.
    pub fn verdict_line(&self) -> String {
        format!("{}: {}", self.verdict.word(), self.headline())
    }

    /// The verdict an older `summary.json` implies: its SLOs' statuses, not strict (it did
    /// not record `--strict`).
    pub fn judged_from_slos(&self) -> RunVerdict {
        RunVerdict::judge(
            self.slos.iter().map(|s| s.status),
            false,
            self.open_model.contains_key("aborted"),
            self.run.interrupted,
        )
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
