//! `RequestResult`: one request name's (or all requests') counts and latency.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::metrics::PERCENTILES;

/// Statistics of one request name, or of all requests together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestResult {
    pub name: String,
    /// The HTTP method (empty for the aggregate).
    pub method: String,
    /// Requests completed, failed ones included.
    pub count: u64,
    pub failures: u64,
    /// Requests per second over the whole run.
    pub(crate) rps: f64,
    pub(crate) failures_per_s: f64,
    /// Mean response body size in bytes.
    pub average_content_bytes: f64,
    #[serde(flatten)]
    pub latency: LatencyResult,
    /// Open-model runs: the service time (sent → answered) beside the corrected latency,
    /// keyed as `percentiles_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_percentiles_ms: Option<Percentiles>,
    /// …and its histogram, encoded as `histogram`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) service_histogram: Option<String>,
}

/// A latency distribution: summary numbers plus the histogram they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencyResult {
    /// `null` when no request was sent.
    pub(crate) min_ms: Option<f64>,
    pub(crate) mean_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub percentiles_ms: Percentiles,
    /// Base64 of hdrhistogram's V2 serialisation, in microseconds: lets runs be merged
    /// and other percentiles computed without losing precision.
    pub histogram: String,
}

/// Latency at each of `PERCENTILES` in milliseconds, keyed `"50"` … `"99.99"`, `"100"`;
/// values are `null` when nothing was measured.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
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
pub(crate) fn percentile_key(p: f64) -> String {
    // f64's Display drops a zero fraction: 50.0 prints as `50`.
    p.to_string()
}
