//! `load:`: users and stages (closed model) or arrivals, bursts and a recovery probe
//! (open model), as written.

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::Scalar;
use super::shapes::shaped;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawLoad {
    /// Simple form: ramp to this many users at `spawn-rate`, hold until `run-time`.
    pub(crate) users: Option<i64>,
    pub(crate) spawn_rate: Option<Scalar>,
    /// Total run time; with `stages`, cuts them short or holds the last level.
    pub(crate) run_time: Option<String>,
    /// Staged form: ramps and holds in order.
    pub(crate) stages: Option<Vec<RawStage>>,
    /// How long in-flight requests may finish after the load ends (default 5s).
    pub(crate) graceful_stop: Option<String>,
    /// Open model: arrivals per unit of time (`1000/min`), or a rate per task name.
    pub(crate) rate: Option<RawRate>,
    /// Open model: `uniform` (evenly spaced, the default) or `poisson`.
    pub(crate) arrivals: Option<String>,
    /// Open model: arrivals running or waiting for a session at once; more are dropped.
    pub(crate) max_in_flight: Option<i64>,
    /// Open model: reusable user sessions (connection, cookies, user variables).
    pub(crate) sessions: Option<i64>,
    /// Requests released all at the same instant.
    pub(crate) bursts: Option<Vec<RawBurst>>,
    /// After the load: poll a request until the target answers well again.
    pub(crate) recovery: Option<RawRecovery>,
}

/// `rate`: one rate for the plan's mix, or a rate per task name.
#[derive(Debug, Clone)]
pub(crate) enum RawRate {
    One(Scalar),
    PerTask(IndexMap<String, Scalar>),
}

/// `bursts` item: `size` copies of a request, released at `at`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawBurst {
    pub(crate) request: Option<String>,
    pub(crate) size: Option<i64>,
    /// Offset from the start of the run, e.g. `1m`.
    pub(crate) at: Option<String>,
}

/// `recovery`: after the load, send `request` every `interval` until it succeeds
/// `successes` times in a row, or `timeout` passes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawRecovery {
    pub(crate) request: Option<String>,
    pub(crate) successes: Option<i64>,
    pub(crate) interval: Option<String>,
    pub(crate) timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawStage {
    pub(crate) name: Option<String>,
    /// Users at the end of the stage (default: the previous stage's).
    pub(crate) users: Option<i64>,
    /// Stage length; the ramp is linear over it unless `spawn-rate` is given.
    pub(crate) duration: Option<String>,
    /// Ramp at this rate (users per second), then hold for the rest of `duration`.
    pub(crate) spawn_rate: Option<Scalar>,
    /// Open model: the arrival rate at the end of the stage (default: the previous one's).
    pub(crate) rate: Option<Scalar>,
    /// Open model: how long the rate ramps before holding (default: the whole stage).
    pub(crate) ramp: Option<String>,
}

impl<'de> Deserialize<'de> for RawRate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, "RawRate", |value| match value {
            Value::Object(map) => map
                .iter()
                .map(|(task, rate)| Some((task.clone(), Scalar::from_value(rate)?)))
                .collect::<Option<_>>()
                .map(RawRate::PerTask),
            other => Scalar::from_value(other).map(RawRate::One),
        })
    }
}
