//! `IntervalResult`: the run second by second.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Percentiles;

/// One second of the run, by completion time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IntervalResult {
    /// Seconds from the start (this interval is `[second, second + 1)`).
    pub(crate) second: u64,
    /// Requests completed in this second.
    pub requests: u64,
    pub(crate) failures: u64,
    /// This second's p50, p95 and max; 0 when no request completed in it.
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) max_ms: f64,
    /// The most users running at once during this second.
    pub(crate) users: u32,
    /// This second's latency at every percentile (`null`s when none completed).
    pub(crate) percentiles_ms: Percentiles,
    /// The run so far, at the end of this second.
    pub total: IntervalTotals,
    /// Per request name that completed requests in this second.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub(crate) by_request: IndexMap<String, RequestInterval>,
    /// Only for a run with `--csv-full-history`: every request name in plan order, then
    /// `Aggregated`, as Locust's full history writes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) history: Vec<NameHistoryResult>,
}

/// One request name (or `Aggregated`) at the end of one second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct NameHistoryResult {
    pub(crate) name: String,
    /// Empty for `Aggregated`.
    pub(crate) method: String,
    /// The run so far.
    pub(crate) total: IntervalTotals,
    /// Latency over the ten seconds ending with this one (`null`s when none completed).
    pub(crate) window_percentiles_ms: Percentiles,
}

/// The run from its start to the end of one second (Locust's `Total …` columns).
/// Latencies are 0 before the first response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IntervalTotals {
    pub(crate) count: u64,
    pub(crate) failures: u64,
    pub(crate) min_ms: f64,
    pub(crate) mean_ms: f64,
    pub(crate) median_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) average_content_bytes: f64,
    /// Latency at every percentile over the run so far (`null`s before the first
    /// response): Locust's default `stats_history.csv` percentiles.
    #[serde(default)]
    pub percentiles_ms: Percentiles,
}

/// One request name in one second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct RequestInterval {
    pub(crate) requests: u64,
    pub(crate) failures: u64,
    /// `null` when every request of this second failed before being sent.
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p95_ms: Option<f64>,
}
