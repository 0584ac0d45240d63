//! `RunSummary`: everything measured in a run, kept as histograms and counters so memory
//! does not grow with run length. The report renderers and the SLO evaluator read it.

use std::time::Duration;

use super::business::{BusinessValue, CheckStats, OutcomeConflict, OutcomeStats};
use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::honesty::LoadHonesty;
use super::windows::{AbortReason, WindowOutcome};
use crate::engine::{BurstOutcome, RecoveryOutcome};
pub use crate::units::{LATENCY_MAX_US, LATENCY_SIGFIG, new_histogram};

/// The latency percentiles every report shows (Locust's set, and its CSV columns).
pub const PERCENTILES: [f64; 11] = [
    50.0, 66.0, 75.0, 80.0, 90.0, 95.0, 98.0, 99.0, 99.9, 99.99, 100.0,
];

/// Statistics of one request name, or of all requests together.
#[derive(Debug, Clone)]
pub struct RequestStats {
    /// The request name (`Aggregated` for all requests).
    pub(crate) name: String,
    /// The HTTP method (empty for the aggregate).
    pub(crate) method: String,
    /// Requests completed, failed ones included.
    pub count: u64,
    /// Requests that failed, for any reason.
    pub failures: u64,
    /// Response body bytes received.
    pub(crate) bytes: u64,
    /// Latency of every request, in microseconds. In open-model runs it counts from the
    /// instant the schedule intended the request to be sent (corrected for coordinated
    /// omission); in closed-model runs it equals `service`.
    pub latency: Histogram<u64>,
    /// Service time: from actually sending the request to the end of its response.
    pub service: Histogram<u64>,
    /// The part of `latency` and `service` from requests that failed without a response;
    /// `None` until the first one.
    pub(crate) no_response: Option<Box<NoResponse>>,
}

/// Requests that were sent but failed without a response (refused, reset, DNS, TLS,
/// cancelled: `Failure::has_response_time` is false). Their times say how fast the
/// failure came, not how fast the target answers, so latency SLOs leave them out
/// (`slo::evaluate`). Kept apart only when there are some: a healthy run pays nothing.
#[derive(Debug, Clone)]
pub struct NoResponse {
    pub(crate) latency: Histogram<u64>,
    pub(crate) service: Histogram<u64>,
}

impl RequestStats {
    /// Records a sent request's times; `answered`: it got a response (or timed out).
    pub(crate) fn record_times(&mut self, latency_us: u64, service_us: u64, answered: bool) {
        self.latency.saturating_record(latency_us);
        self.service.saturating_record(service_us);
        if !answered {
            let apart = self.no_response.get_or_insert_with(|| {
                Box::new(NoResponse {
                    latency: new_histogram(),
                    service: new_histogram(),
                })
            });
            apart.latency.saturating_record(latency_us);
            apart.service.saturating_record(service_us);
        }
    }

    /// Sent requests that got a response or timed out: what latency SLOs are over.
    pub(crate) fn responses(&self) -> u64 {
        let apart = self.no_response.as_ref().map_or(0, |n| n.latency.len());
        self.latency.len() - apart
    }

    pub fn new(name: impl Into<String>, method: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            method: method.into(),
            count: 0,
            failures: 0,
            bytes: 0,
            latency: new_histogram(),
            service: new_histogram(),
            no_response: None,
        }
    }

    /// Service time at percentile `p` (0..=100), in microseconds.
    pub(crate) fn service_percentile_us(&self, p: f64) -> Option<u64> {
        (!self.service.is_empty()).then(|| self.service.value_at_percentile(p))
    }

    /// Latency at percentile `p` (0..=100), in microseconds; `None` with no requests.
    pub(crate) fn percentile_us(&self, p: f64) -> Option<u64> {
        (!self.latency.is_empty()).then(|| self.latency.value_at_percentile(p))
    }

    pub(crate) fn mean_us(&self) -> Option<f64> {
        (!self.latency.is_empty()).then(|| self.latency.mean())
    }

    pub(crate) fn max_us(&self) -> Option<u64> {
        (!self.latency.is_empty()).then(|| self.latency.max())
    }

    pub(crate) fn min_us(&self) -> Option<u64> {
        (!self.latency.is_empty()).then(|| self.latency.min())
    }

    /// Failures over requests, in 0..=1; `None` with no requests.
    pub(crate) fn error_rate(&self) -> Option<f64> {
        (self.count > 0).then(|| self.failures as f64 / self.count as f64)
    }

    /// Requests per second over `duration`.
    pub(crate) fn throughput(&self, duration: Duration) -> f64 {
        if duration.is_zero() {
            return 0.0;
        }
        self.count as f64 / duration.as_secs_f64()
    }

    pub(crate) fn average_bytes(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.bytes as f64 / self.count as f64
    }

    /// Back to no requests, keeping the name (for per-second tallies).
    pub(crate) fn clear(&mut self) {
        self.count = 0;
        self.failures = 0;
        self.bytes = 0;
        self.latency.reset();
    }
}

/// Failures of one request name for one reason.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureCount {
    pub name: String,
    pub(crate) method: String,
    /// Stable category: `status`, `timeout`, `connect`, `connection`, `body`, `template`, `cancelled`, `other`.
    pub category: String,
    /// The reason in words (`unexpected status 500`).
    pub reason: String,
    pub count: u64,
    /// First and last time seen, from the start of the run.
    pub(crate) first_us: u64,
    pub(crate) last_us: u64,
}

/// One second of the run (by completion time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondStats {
    /// Seconds from the start of the run (this second is `[second, second + 1)`).
    pub second: u64,
    /// Requests completed in this second.
    pub requests: u64,
    pub(crate) failures: u64,
    /// Latency percentiles of the requests completed in this second, in microseconds
    /// (0 when none completed).
    pub(crate) p50_us: u64,
    pub(crate) p95_us: u64,
    pub(crate) max_us: u64,
    /// The most users running at once during this second (at its end, users leaving as
    /// the run ends would make the last second of load show none).
    pub users: u32,
    /// This second's latency at each of `PERCENTILES`, in microseconds; `None` when no
    /// request completed in it (Locust's interval columns `50%` … `100%`).
    pub percentiles_us: Option<[u64; PERCENTILES.len()]>,
    /// All requests from the start of the run to the end of this second (Locust's
    /// `Total …` columns).
    pub total: RunningTotals,
    /// Per request name, in the order of `RunSummary::requests`: this second alone.
    pub by_request: Vec<RequestSecond>,
    /// With `--csv-full-history` only (else empty): per request name, in the order of
    /// `RunSummary::requests`, then all requests together, the run so far and the last
    /// ten seconds (Locust's per-entry history rows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) history: Vec<NameHistory>,
}

/// One request name (or all of them) at the end of one second, for Locust's full history.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct NameHistory {
    /// From the start of the run to the end of this second.
    pub(crate) totals: RunningTotals,
    /// Latency at each of `PERCENTILES` over the ten seconds ending with this one, in
    /// microseconds (Locust's "current" percentiles); `None` when none completed in them.
    pub(crate) window_us: Option<[u64; PERCENTILES.len()]>,
}

/// The run so far, at the end of one second. Latencies are 0 before the first response
/// (as Locust writes them).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RunningTotals {
    pub requests: u64,
    pub(crate) failures: u64,
    /// Response body bytes received.
    pub(crate) bytes: u64,
    pub(crate) min_us: u64,
    pub(crate) mean_us: f64,
    pub p50_us: u64,
    pub(crate) max_us: u64,
    /// Latency at each of `PERCENTILES` over the run so far, in microseconds (Locust's
    /// default `stats_history.csv` percentiles); `None` before the first response.
    #[serde(default)]
    pub(crate) percentiles_us: Option<[u64; PERCENTILES.len()]>,
}

impl RunningTotals {
    pub(crate) fn of(stats: &RequestStats) -> Self {
        Self {
            requests: stats.count,
            failures: stats.failures,
            bytes: stats.bytes,
            min_us: stats.min_us().unwrap_or(0),
            mean_us: stats.mean_us().unwrap_or(0.0),
            p50_us: stats.percentile_us(50.0).unwrap_or(0),
            max_us: stats.max_us().unwrap_or(0),
            percentiles_us: percentile_set(&stats.latency),
        }
    }
}

/// One request name in one second: enough to chart its p50 and p95 over time.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RequestSecond {
    /// Requests of this name completed in this second.
    pub requests: u64,
    pub(crate) failures: u64,
    /// Latency percentiles of those requests, in microseconds; `None` when none completed.
    pub(crate) p50_us: Option<u64>,
    pub p95_us: Option<u64>,
}

impl RequestSecond {
    pub(crate) fn of(stats: &RequestStats) -> Self {
        Self {
            requests: stats.count,
            failures: stats.failures,
            p50_us: stats.percentile_us(50.0),
            p95_us: stats.percentile_us(95.0),
        }
    }
}

/// `histogram`'s value at each of `PERCENTILES`; `None` when it is empty.
pub fn percentile_set(histogram: &Histogram<u64>) -> Option<[u64; PERCENTILES.len()]> {
    (!histogram.is_empty()).then(|| PERCENTILES.map(|p| histogram.value_at_percentile(p)))
}

/// Users whose `on-start` flow failed: they run no task until it succeeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnStartStats {
    /// Users whose `on-start` failed at least once.
    pub(crate) users_failed: u64,
    /// Times a user ran its `on-start` again after a failure (`on-start-failure: retry`).
    pub(crate) retries: u64,
    /// Users that stopped after a failed `on-start` (`on-start-failure: stop`).
    pub(crate) users_stopped: u64,
}

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Wall-clock start of the run (UTC).
    pub(crate) started_at: DateTime<Utc>,
    /// From the start of the run to the last response (graceful stop included).
    pub duration: Duration,
    /// Stopped early by Ctrl-C or SIGTERM.
    pub interrupted: bool,
    /// Per request name, in plan order.
    pub requests: Vec<RequestStats>,
    /// All requests together.
    pub total: RequestStats,
    /// Failures by request name and reason, most frequent first.
    pub failures: Vec<FailureCount>,
    /// One entry per second of the run.
    pub series: Vec<SecondStats>,
    /// The most users that ran at once (open model: arrivals in flight).
    pub peak_users: u32,
    /// Named checks with their pass counts, in plan order.
    pub checks: Vec<CheckStats>,
    /// Named outcomes with their counts, in plan order.
    pub outcomes: Vec<OutcomeStats>,
    /// Business metrics (`metrics:` in the plan), in plan order.
    pub business: Vec<BusinessValue>,
    /// Responses that met more than one of a request's exclusive outcomes.
    pub outcome_conflicts: Vec<OutcomeConflict>,
    /// Users whose `on-start` failed, and what they did then.
    pub(crate) on_start: OnStartStats,
    /// Time-aware SLOs as the recorder measured them during the run.
    pub(crate) windows: Vec<WindowOutcome>,
    /// Set when an `abort` SLO stopped the run early.
    pub aborted: Option<AbortReason>,
    /// Bursts released during the run.
    pub bursts: Vec<BurstOutcome>,
    /// The recovery probe after the load, when the plan has one.
    pub recovery: Option<RecoveryOutcome>,
    /// Whether planrun kept its schedule, and why not.
    pub honesty: LoadHonesty,
}

impl RunSummary {
    /// The statistics of a request name, if it exists.
    pub fn request(&self, name: &str) -> Option<&RequestStats> {
        self.requests.iter().find(|r| r.name == name)
    }
}
