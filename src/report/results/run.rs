//! The run's identity in `summary.json`: the plan that was run, and when and how long.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The plan that was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanInfo {
    pub(crate) name: String,
    /// The plan file as given on the command line.
    pub(crate) file: String,
    /// The target's base URL.
    pub(crate) host: String,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunInfo {
    #[serde(with = "rfc3339_millis")]
    #[schemars(with = "DateTime<Utc>")]
    pub(crate) started_at: DateTime<Utc>,
    #[serde(with = "rfc3339_millis")]
    #[schemars(with = "DateTime<Utc>")]
    pub(crate) ended_at: DateTime<Utc>,
    /// From the start to the last response, graceful stop included.
    pub duration_s: f64,
    /// Stopped early by a signal (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT).
    pub interrupted: bool,
    pub(crate) peak_users: u32,
    /// Users per class at the peak.
    pub users_by_class: IndexMap<String, u32>,
    pub(crate) stages: Vec<StageResult>,
}

/// How planrun connected to an `https://` target (the plan's `tls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TlsResult {
    /// Whether the server's certificate was verified. `false` under `tls.insecure: true`:
    /// the run did not check that it was talking to the real server.
    pub verified: bool,
    /// `tls.ca-file`: a CA bundle trusted beside the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// A client certificate was presented to a server that asked (mutual TLS).
    pub client_certificate: bool,
    /// `tls.server-name`: the name sent and verified instead of the host's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) server_name: Option<String>,
    /// The oldest TLS version offered: `1.2` or `1.3`.
    pub(crate) min_version: String,
}

/// One load stage as it ran (cut at the end of the run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageResult {
    pub(crate) name: String,
    pub(crate) start_s: f64,
    pub(crate) end_s: f64,
    pub(crate) from_users: u32,
    pub(crate) to_users: u32,
}

/// RFC 3339 in UTC to the millisecond (`2026-11-26T18:58:42.123Z`), the precision kept.
mod rfc3339_millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}
