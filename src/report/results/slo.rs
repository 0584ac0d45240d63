//! `SloResult`: one SLO's verdict as every report shows it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::slo::{Level, Status, Unit, WindowVerdict};

fn critical() -> Level {
    Level::Critical
}

/// One SLO's verdict. Reports render it from the texts and `status` alone, so any kind of
/// SLO shows up everywhere without renderer changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SloResult {
    /// The SLO as written, with its scope: `pre-reserve: p95 < 3s`.
    pub(crate) slo: String,
    /// `all requests`, a request name, or a business metric's name.
    pub(crate) scope: String,
    /// `p95` (any `pNN`), `mean`, `max`, `error-rate`, `throughput`, or for a business
    /// metric `rate` or `count`.
    pub(crate) metric: String,
    /// `<`, `<=`, `>` or `>=`.
    pub comparison: String,
    /// The measured value in `unit`; `null` when nothing was measured.
    pub measured: Option<f64>,
    pub(crate) threshold: f64,
    pub(crate) unit: Unit,
    /// The measured value as people read it (`23.4ms`, `0.42%`), or `no requests`.
    pub measured_text: String,
    /// The threshold as people read it (`3s`).
    pub threshold_text: String,
    /// False when this SLO fails the run: a FAIL, or a WARN under `--strict`.
    pub(crate) passed: bool,
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
    pub(crate) without_response: Option<u64>,
}

impl SloResult {
    /// The measured value with what a latency is over: `23.4ms over 1234 responses`,
    /// `, 17 requests without a response left out` when some were.
    pub(crate) fn measured_over(&self) -> String {
        match (self.over(), self.measured) {
            (Some(over), Some(_)) => format!("{} {over}", self.measured_text),
            (Some(over), None) => format!("{} ({over})", self.measured_text),
            (None, _) => self.measured_text.clone(),
        }
    }

    /// What a whole-run latency SLO's value is over: `over 1234 responses, 17 requests
    /// without a response left out` (`0 responses, …` when nothing was measured).
    pub(crate) fn over(&self) -> Option<String> {
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
    pub(crate) fn title(&self) -> String {
        match self.level {
            Level::Target => format!("{} (target)", self.slo),
            Level::Critical => self.slo.clone(),
        }
    }
}
