//! `RawPlan`: the plan file as written, after `extends` is merged and `--set` applied.
//!
//! Raw types mirror the file and decide nothing: values stay strings (`"3s"`, `"10/s"`,
//! `"p95 < 3s"`) so that compile can parse them with their `KeyPath` at hand and report
//! every mistake at once. Unknown keys are errors: a misspelt `wieght` silently ignored
//! would run a different test than the one written.

mod load;
mod shapes;
mod slo;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

pub(crate) use load::{RawBurst, RawLoad, RawRate, RawRecovery, RawStage};
pub(crate) use shapes::{OneOrMany, RawExclusive, RawStatuses, Scalar};
pub(crate) use slo::{RawScopedSlo, RawSlo};
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawPlan {
    /// Display name; defaults to the file's stem.
    pub(crate) name: Option<String>,
    /// Another plan file this one builds on. The loader resolves it from the tree before
    /// this struct is built; the field is here so that the key is known, not unknown.
    #[allow(dead_code)]
    pub(crate) extends: Option<String>,
    /// Free text for the plan's readers; planrun keeps it but does not use it.
    #[allow(dead_code)]
    pub(crate) description: Option<String>,
    /// Base URL of the system under test, e.g. `http://127.0.0.1:8000`.
    pub(crate) host: Option<String>,
    /// Headers sent with every request (templates).
    pub(crate) headers: Option<IndexMap<String, String>>,
    /// Default per-request timeout, e.g. `10s`.
    pub(crate) timeout: Option<String>,
    /// The most of a response body kept for extraction, checks and outcomes (`512KiB`,
    /// `4MB`, or bytes); the rest is read and counted, not stored. Default 1 MiB.
    pub(crate) max_body: Option<Scalar>,
    /// How long a kept-alive connection may sit idle before a user replaces it instead of
    /// sending on it (`4s` by default, below common servers' keep-alive timeouts).
    pub(crate) connection_idle: Option<String>,
    /// How `https://` connections are set up: extra roots, mutual TLS, SNI, versions.
    pub(crate) tls: Option<RawTls>,
    /// Seed for every random choice (task picks, think times, template helpers).
    pub(crate) seed: Option<u64>,
    /// Plan variables, visible in every template.
    pub(crate) vars: Option<IndexMap<String, Value>>,
    /// User classes by name.
    pub(crate) classes: Option<IndexMap<String, RawClass>>,
    pub(crate) load: Option<RawLoad>,
    /// Data files feeding template variables, by the name templates use.
    pub(crate) data: Option<IndexMap<String, RawData>>,
    /// Business metrics computed from request outcomes.
    pub(crate) metrics: Option<IndexMap<String, RawBusinessMetric>>,
    pub(crate) slos: Option<Vec<RawSlo>>,
    /// A path (GET) that must answer 200–399 before the load starts; by default the
    /// plan's health-check request, else the host's root (see `compile::preflight`).
    pub(crate) preflight: Option<String>,
    /// Environment variables whose values are secret: scrubbed from every report, log
    /// line and error message (see `compile::secrets`). Merged with the parent's through
    /// `extends`, never replaced.
    pub(crate) secrets: Option<Vec<String>>,
}

/// `tls:`: how planrun connects to an `https://` host.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawTls {
    /// A PEM bundle of CA certificates trusted beside the system's roots.
    pub(crate) ca_file: Option<String>,
    /// `true`: do not verify the server's certificate at all (recorded in every report).
    pub(crate) insecure: Option<bool>,
    /// A PEM certificate chain presented to a server that asks for one (mutual TLS).
    pub(crate) client_cert: Option<String>,
    /// The PEM private key of `client-cert`.
    pub(crate) client_key: Option<String>,
    /// The name sent (SNI) and verified instead of the host's, e.g. when testing by IP.
    pub(crate) server_name: Option<String>,
    /// The oldest TLS version offered: `1.2` (default) or `1.3`.
    pub(crate) min_version: Option<Scalar>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawClass {
    /// Share of the users, relative to the other classes' weights (default 1).
    pub(crate) weight: Option<i64>,
    /// `between 1s 3s`, `constant 2s`, `pacing 5s` or `none`.
    pub(crate) think_time: Option<String>,
    /// Headers for this class's requests, over the plan's.
    pub(crate) headers: Option<IndexMap<String, String>>,
    /// Run once per user before its first task: requests and `set` steps.
    pub(crate) on_start: Option<Vec<RawStep>>,
    /// What a user whose `on-start` failed does: `retry` (default) or `stop`.
    pub(crate) on_start_failure: Option<String>,
    /// The tasks a user of this class picks from, by name.
    pub(crate) tasks: Option<IndexMap<String, RawStep>>,
}

/// A task or an `on-start` step: either a request (`path` and friends) or a `set` of
/// user variables. One struct rather than an enum so unknown keys are reported by name.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawStep {
    /// Name the request's statistics are grouped under (e.g. `/accommodations/{id}`);
    /// defaults to the task's key, or to the path for an `on-start` request.
    pub(crate) name: Option<String>,
    /// Relative frequency among the class's tasks (default 1). Tasks only.
    pub(crate) weight: Option<i64>,
    /// HTTP method, default `GET`.
    pub(crate) method: Option<String>,
    /// Path (template), joined to `host`.
    pub(crate) path: Option<String>,
    /// Query parameters (templates), URL-encoded.
    pub(crate) query: Option<IndexMap<String, String>>,
    /// Headers (templates), over the class's and the plan's.
    pub(crate) headers: Option<IndexMap<String, String>>,
    /// Request body template, sent as JSON unless a `Content-Type` header says otherwise.
    pub(crate) body: Option<String>,
    /// A body template file, relative to the plan file that names it.
    pub(crate) body_file: Option<String>,
    /// Accepted statuses: `[201, 409]`, `2xx`, `[2xx, 409]`; default: 200 to 399.
    pub(crate) expect_status: Option<RawStatuses>,
    /// Timeout for this request, over the plan's.
    pub(crate) timeout: Option<String>,
    /// User variables to set (templates, rendered in order).
    pub(crate) set: Option<IndexMap<String, String>>,
    /// A task made of several steps, run in order by one user.
    pub(crate) steps: Option<Vec<RawStep>>,
    /// A pause step inside a flow: `pause: 500ms`.
    pub(crate) pause: Option<String>,
    /// User variables taken from the response.
    pub(crate) extract: Option<IndexMap<String, RawExtract>>,
    pub(crate) checks: Option<Vec<RawCheck>>,
    /// Named outcomes, each a condition on the response: `created: json.code != none`.
    pub(crate) outcomes: Option<IndexMap<String, String>>,
    /// Outcomes one response can meet at most one of: `true` (all of this request's), a
    /// list of outcome names, or a list of such lists (several groups).
    pub(crate) exclusive_outcomes: Option<RawExclusive>,
    /// A condition on user variables; when false the request step is skipped.
    pub(crate) when: Option<String>,
}

/// Where an extracted value comes from: exactly one of these keys.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawExtract {
    /// A JSONPath (`$.reservation.code`) or a JSON pointer (`/reservation/code`).
    pub(crate) json: Option<String>,
    /// A regular expression over the body; its first capture group (or the whole match).
    pub(crate) regex: Option<String>,
    pub(crate) header: Option<String>,
    /// A cookie the response sets.
    pub(crate) cookie: Option<String>,
    /// `status: true` takes the status code.
    pub(crate) status: Option<bool>,
    /// When the value is missing, unset the variable instead of failing the request.
    pub(crate) optional: Option<bool>,
}

/// A check on a response: a subject (`json`, `header`, `status`, else the body) and one
/// predicate.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawCheck {
    pub(crate) name: Option<String>,
    pub(crate) json: Option<String>,
    pub(crate) header: Option<String>,
    pub(crate) status: Option<RawStatuses>,
    pub(crate) exists: Option<bool>,
    pub(crate) equals: Option<Value>,
    #[serde(rename = "in")]
    pub(crate) one_of: Option<Vec<Value>>,
    pub(crate) is_null: Option<bool>,
    pub(crate) contains: Option<String>,
    pub(crate) matches: Option<String>,
    /// Whether a failing check fails its request (default) or is only counted.
    pub(crate) fail: Option<bool>,
}

/// A data file: `file` (CSV with a header row, or a JSON array of objects), how rows are
/// handed out (`mode`) and what happens when `unique` rows run out.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawData {
    pub(crate) file: String,
    pub(crate) mode: Option<String>,
    pub(crate) on_exhausted: Option<String>,
}

/// A business metric: outcome counts over attempts (`rate`) or a plain `count`, each
/// naming outcomes as `request.outcome`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawBusinessMetric {
    pub(crate) rate: Option<OneOrMany>,
    pub(crate) count: Option<OneOrMany>,
    pub(crate) description: Option<String>,
}
