//! SLOs as plans write them and as the run judges them: the check grammar (`p95 < 3s`,
//! `error-rate < 1% over any 30s`), its scope and level, compiled from `slos:`. Judging
//! them against measurements is the `slo` stage's work; this is what it judges.

mod scoped;
mod threshold;
mod window;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::business::BusinessId;
use super::graph::RequestNameId;

pub(super) use scoped::compile;
pub use threshold::{
    Comparison, RateUnit, SloMeasure, Threshold, Unit, format_latency_us, format_metric_value,
};
pub use window::{Over, parse_check};

/// An SLO's place in `ExecPlan::slos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SloId(pub(crate) u32);

/// What an SLO is about.
#[derive(Debug, Clone, PartialEq)]
pub enum SloScope {
    /// Every request of the run.
    All,
    /// One request name.
    Request { name: String, id: RequestNameId },
    /// A business metric (`metrics:` in the plan).
    Business { name: String, id: BusinessId },
}

/// How bad a breach is: the seed's metric tables give a target and a critical value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A breach is a warning (WARN): exit 0 unless `--strict`.
    Target,
    /// A breach fails the run (FAIL): exit 4.
    Critical,
}

/// A compiled SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// Its place among the plan's SLOs: what windows and verdicts refer to it by.
    pub(crate) id: SloId,
    pub(crate) scope: SloScope,
    pub(crate) threshold: Threshold,
    pub(crate) level: Level,
    pub(crate) over: Over,
    /// Stop the run once a window has breached for this long (windowed SLOs only).
    pub(crate) abort_after: Option<Duration>,
}

impl Slo {
    /// An SLO over the whole run that fails the run when breached.
    pub(crate) fn whole_run(id: SloId, scope: SloScope, threshold: Threshold) -> Self {
        Self {
            id,
            scope,
            threshold,
            level: Level::Critical,
            over: Over::Run,
            abort_after: None,
        }
    }

    /// `pre-reserve: p95 < 3s`, or `all requests: error-rate < 1% over any 30s`.
    pub(crate) fn label(&self) -> String {
        let check = match self.over {
            Over::Drift { .. } => format!(
                "{} drift {} {}%",
                self.threshold.measure,
                self.threshold.comparison.symbol(),
                trim_percent(self.threshold.value)
            ),
            _ => self.threshold.to_string(),
        };
        format!("{}: {check}{}", self.scope_name(), self.over)
    }

    /// Formats a measured value of this SLO (drift as a percentage).
    pub(crate) fn format_value(&self, value: f64) -> String {
        match self.over {
            Over::Drift { .. } => format!("{}%", trim_percent(value)),
            _ => self.threshold.format_value(value),
        }
    }

    pub(crate) fn scope_name(&self) -> &str {
        match &self.scope {
            SloScope::All => "all requests",
            SloScope::Request { name, .. } | SloScope::Business { name, .. } => name,
        }
    }
}

/// A fraction as a percentage without trailing zeros: 0.3 → `30`.
fn trim_percent(fraction: f64) -> String {
    let text = format!("{:.2}", fraction * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
