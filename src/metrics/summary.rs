//! `RunSummary`: everything measured in a run, kept as histograms and counters so memory
//! does not grow with run length. The report renderers and the SLO evaluator read it.

use std::time::Duration;

use super::business::{BusinessValue, CheckStats, OutcomeStats};
use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;

/// Latencies are recorded in microseconds, from 1 µs to one hour, to 3 significant digits.
pub const LATENCY_MAX_US: u64 = 3_600_000_000;
pub const LATENCY_SIGFIG: u8 = 3;

pub fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts, so this cannot fail.
    Histogram::new_with_bounds(1, LATENCY_MAX_US, LATENCY_SIGFIG)
        .unwrap_or_else(|_| unreachable!("valid histogram bounds"))
}

/// Statistics of one request name, or of all requests together.
#[derive(Debug, Clone)]
pub struct RequestStats {
    /// The request name (`Aggregated` for all requests).
    pub name: String,
    /// The HTTP method (empty for the aggregate).
    pub method: String,
    /// Requests completed, failed ones included.
    pub count: u64,
    /// Requests that failed, for any reason.
    pub failures: u64,
    /// Response body bytes received.
    pub bytes: u64,
    /// Latency of every request, in microseconds.
    pub latency: Histogram<u64>,
}

impl RequestStats {
    pub fn new(name: impl Into<String>, method: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            method: method.into(),
            count: 0,
            failures: 0,
            bytes: 0,
            latency: new_histogram(),
        }
    }

    /// Latency at percentile `p` (0..=100), in microseconds; `None` with no requests.
    pub fn percentile_us(&self, p: f64) -> Option<u64> {
        (!self.latency.is_empty()).then(|| self.latency.value_at_percentile(p))
    }

    pub fn mean_us(&self) -> Option<f64> {
        (!self.latency.is_empty()).then(|| self.latency.mean())
    }

    pub fn max_us(&self) -> Option<u64> {
        (!self.latency.is_empty()).then(|| self.latency.max())
    }

    pub fn min_us(&self) -> Option<u64> {
        (!self.latency.is_empty()).then(|| self.latency.min())
    }

    /// Failures over requests, in 0..=1; `None` with no requests.
    pub fn error_rate(&self) -> Option<f64> {
        (self.count > 0).then(|| self.failures as f64 / self.count as f64)
    }

    /// Requests per second over `duration`.
    pub fn throughput(&self, duration: Duration) -> f64 {
        if duration.is_zero() {
            return 0.0;
        }
        self.count as f64 / duration.as_secs_f64()
    }

    pub fn average_bytes(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.bytes as f64 / self.count as f64
    }
}

/// Failures of one request name for one reason.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureCount {
    pub name: String,
    pub method: String,
    /// Stable category: `status`, `timeout`, `connect`, `connection`, `body`, `template`, `cancelled`, `other`.
    pub category: String,
    /// The reason in words (`unexpected status 500`).
    pub reason: String,
    pub count: u64,
    /// First and last time seen, from the start of the run.
    pub first_us: u64,
    pub last_us: u64,
}

/// One second of the run (by completion time).
#[derive(Debug, Clone, PartialEq)]
pub struct SecondStats {
    /// Seconds from the start of the run (this second is `[second, second + 1)`).
    pub second: u64,
    /// Requests completed in this second.
    pub requests: u64,
    pub failures: u64,
    /// Latency percentiles of the requests completed in this second, in microseconds.
    pub p50_us: u64,
    pub p95_us: u64,
    pub max_us: u64,
    /// Users running at the end of this second.
    pub users: u32,
}

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Wall-clock start of the run (UTC).
    pub started_at: DateTime<Utc>,
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
    /// The most users that ran at once.
    pub peak_users: u32,
    /// Named checks with their pass counts, in plan order.
    pub checks: Vec<CheckStats>,
    /// Named outcomes with their counts, in plan order.
    pub outcomes: Vec<OutcomeStats>,
    /// Business metrics (`metrics:` in the plan), in plan order.
    pub business: Vec<BusinessValue>,
}

impl RunSummary {
    /// The statistics of a request name, if it exists.
    pub fn request(&self, name: &str) -> Option<&RequestStats> {
        self.requests.iter().find(|r| r.name == name)
    }

    /// Requests per second over the whole run.
    pub fn throughput(&self) -> f64 {
        self.total.throughput(self.duration)
    }
}
