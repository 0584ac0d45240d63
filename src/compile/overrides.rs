//! The command line's values over the plan's: `Overrides`, and the edits of the plan's
//! tree they make before it compiles.

use std::time::Duration;

use crate::plan::{FlagEdit, KeyPath};
use crate::units::{Rate, format_duration};

/// Values from the command line that override the plan's. `host`, `users`, `spawn_rate`,
/// `run_time` and `seed` edit the plan's tree (`Overrides::edits`) before it compiles,
/// so the plan's own limits judge them and the plan as run shows them.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--host`, `PLANRUN_HOST`, or the in-process sample API's address.
    pub host: Option<String>,
    /// Where `host` came from, as errors name it: `--host` when `None`, `PLANRUN_HOST`,
    /// `--sample-api`.
    pub host_from: Option<String>,
    /// `-u/--users`: replaces the plan's stages with a ramp to this many users.
    pub users: Option<u32>,
    /// `-r/--spawn-rate`.
    pub spawn_rate: Option<Rate>,
    /// `-t/--run-time`.
    pub run_time: Option<Duration>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// Values for environment variables that are not set (`--sample-api` supplies its
    /// webhook secrets this way).
    pub env_defaults: Vec<(String, String)>,
    /// `check`: an unset environment variable is noted in `ExecPlan::unset_env` rather
    /// than an error (a plan is checked in CI without its secrets).
    pub lenient_env: bool,
    /// The command line that ran the plan, recorded in the reports so a run can be
    /// repeated (secrets are scrubbed from it like from everything else).
    pub command: Option<String>,
}

/// What `-u` replaces: an arrival-rate or staged load becomes a ramp and a hold.
const REPLACED_BY_USERS: [&str; 5] = ["stages", "rate", "arrivals", "max-in-flight", "sessions"];

impl Overrides {
    /// The flags as edits of the plan's tree, in the order they apply.
    pub(crate) fn edits(&self) -> Vec<FlagEdit> {
        let load = KeyPath::root().key("load");
        let edit = |flag: &str, path: KeyPath, value: serde_json::Value| FlagEdit {
            flag: flag.to_owned(),
            path,
            value,
            removes: Vec::new(),
        };
        let mut edits = Vec::new();
        if let Some(host) = &self.host {
            let flag = self.host_from.as_deref().unwrap_or("--host");
            edits.push(edit(
                flag,
                KeyPath::root().key("host"),
                host.as_str().into(),
            ));
        }
        if let Some(users) = self.users {
            edits.push(FlagEdit {
                removes: REPLACED_BY_USERS.iter().map(|k| load.key(*k)).collect(),
                ..edit("--users", load.key("users"), users.into())
            });
        }
        if let Some(rate) = self.spawn_rate {
            edits.push(edit(
                "--spawn-rate",
                load.key("spawn-rate"),
                rate.to_string().into(),
            ));
        }
        if let Some(run_time) = self.run_time {
            edits.push(edit(
                "--run-time",
                load.key("run-time"),
                format_duration(run_time).into(),
            ));
        }
        if let Some(seed) = self.seed {
            edits.push(edit("--seed", KeyPath::root().key("seed"), seed.into()));
        }
        edits
    }

    /// What is left once `edits` are in the plan.
    pub(super) fn applied(&self) -> Self {
        Self {
            host: None,
            users: None,
            spawn_rate: None,
            run_time: None,
            seed: None,
            ..self.clone()
        }
    }

    /// The value of environment variable `name`: set, else its `env_defaults` entry.
    pub(crate) fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().or_else(|| {
            self.env_defaults
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        })
    }
}
