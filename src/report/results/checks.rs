//! What happened beside the latency: failures by reason, checks, outcomes, business
//! metrics, and users whose `on-start` failed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Failures of one request name for one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailureResult {
    pub(crate) name: String,
    pub(crate) method: String,
    /// `status`, `timeout`, `connect`, `dns`, `tls`, `connection`, `invalid-http`, `body`,
    /// `template`, `cancelled`, `extract`, `check`, `other` or `local-resources`
    /// (`metrics::Failure::category`).
    pub category: String,
    /// The reason in words (`unexpected status 500`).
    pub reason: String,
    pub count: u64,
    /// First and last seen, in seconds from the start of the run.
    pub(crate) first_s: f64,
    pub(crate) last_s: f64,
}

/// A named check of a request's response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    pub(crate) request: String,
    pub name: String,
    pub passed: u64,
    pub failed: u64,
    /// Passed over run, in 0..=1; `null` when the check never ran.
    pub(crate) pass_rate: Option<f64>,
}

/// How often a named outcome held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeResult {
    pub(crate) request: String,
    pub(crate) name: String,
    pub(crate) count: u64,
}

/// Responses of a request that met several of its exclusive outcomes together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeConflictResult {
    pub request: String,
    /// The outcomes met together, in plan order.
    pub outcomes: Vec<String>,
    /// How many responses met exactly these together.
    pub count: u64,
}

/// Users whose `on-start` failed: they run no task until it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OnStartResult {
    /// Users whose `on-start` failed at least once.
    pub users_failed: u64,
    /// Times a user ran its `on-start` again after a failure.
    pub retries: u64,
    /// Users that stopped after a failed `on-start` (`on-start-failure: stop`).
    pub users_stopped: u64,
}

/// A business metric's value at the end of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BusinessResult {
    pub(crate) name: String,
    /// `rate` or `count`.
    pub(crate) kind: String,
    pub(crate) description: Option<String>,
    /// The outcomes counted (`pre-reserve.created`).
    pub(crate) outcomes: Vec<String>,
    /// How many times those outcomes held.
    pub(crate) count: u64,
    /// For a rate: the attempts of the requests the outcomes belong to.
    pub(crate) attempts: Option<u64>,
    /// A rate as a fraction (`null` with no attempts), or the count.
    pub(crate) value: Option<f64>,
}
