//! `RawPlan`: the plan file as written, after `extends` is merged and `--set` applied.
//!
//! Raw types mirror the file and decide nothing: values stay strings (`"3s"`, `"10/s"`,
//! `"p95 < 3s"`) so that compile can parse them with their `KeyPath` at hand and report
//! every mistake at once. Unknown keys are errors: a misspelt `wieght` silently ignored
//! would run a different test than the one written.

use indexmap::IndexMap;
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, SeqAccess, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

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

/// One string or a list of them.
#[derive(Debug, Clone)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(item) => vec![item.as_str()],
            OneOrMany::Many(items) => items.iter().map(String::as_str).collect(),
        }
    }
}

/// `exclusive-outcomes`: `true`, one group of outcome names, or several groups.
#[derive(Debug, Clone)]
pub(crate) enum RawExclusive {
    All(bool),
    Groups(Vec<Vec<String>>),
}

// By hand, so that a wrong shape says what is expected (untagged enums cannot).
impl<'de> Deserialize<'de> for RawExclusive {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let names = |items: &[Value]| -> Option<Vec<String>> {
            items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let value = Value::deserialize(deserializer)?;
        let groups = match &value {
            Value::Bool(all) => return Ok(RawExclusive::All(*all)),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                names(items).map(|group| vec![group])
            }
            Value::Array(items) => items
                .iter()
                .map(|group| group.as_array().and_then(|g| names(g)))
                .collect(),
            _ => None,
        };
        groups.map(RawExclusive::Groups).ok_or_else(|| {
            D::Error::custom(
                "expected `true`, a list of this request's outcome names (`[created, overlap]`), or a list of such lists",
            )
        })
    }
}

/// A number or a string in the file; plans may write `10` or `"10/s"`.
#[derive(Debug, Clone)]
pub(crate) enum Scalar {
    Int(i64),
    Float(f64),
    Text(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Int(n) => write!(f, "{n}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Text(s) => f.write_str(s),
        }
    }
}

/// `expect-status`: one item or a list of them.
#[derive(Debug, Clone)]
pub(crate) enum RawStatuses {
    One(Scalar),
    Many(Vec<Scalar>),
}

impl RawStatuses {
    pub(crate) fn items(&self) -> Vec<String> {
        match self {
            RawStatuses::One(item) => vec![item.to_string()],
            RawStatuses::Many(items) => items.iter().map(Scalar::to_string).collect(),
        }
    }
}

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

/// One SLO: `"error-rate < 1%"` over all requests, or `{request: NAME, check: "p95 < 3s"}`.
#[derive(Debug, Clone)]
pub(crate) enum RawSlo {
    Check(String),
    Scoped(RawScopedSlo),
}

// By hand rather than `#[serde(untagged)]`, whose one message ("did not match any
// variant") would hide which key of the entry was wrong: a map is read in place, so a
// mistake inside it is reported at its own key.
impl<'de> Deserialize<'de> for RawSlo {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SloVisitor)
    }
}

struct SloVisitor;

impl SloVisitor {
    fn wrong<E: serde::de::Error>() -> E {
        E::custom("expected an SLO such as `p95 < 3s`, or a map with `request` and `check`")
    }
}

impl<'de> Visitor<'de> for SloVisitor {
    type Value = RawSlo;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an SLO such as `p95 < 3s`, or a map with `request` and `check`")
    }

    fn visit_str<E: serde::de::Error>(self, check: &str) -> Result<RawSlo, E> {
        Ok(RawSlo::Check(check.to_owned()))
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<RawSlo, M::Error> {
        RawScopedSlo::deserialize(MapAccessDeserializer::new(map)).map(RawSlo::Scoped)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<RawSlo, E> {
        Err(Self::wrong())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<RawSlo, E> {
        Err(Self::wrong())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<RawSlo, E> {
        Err(Self::wrong())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<RawSlo, E> {
        Err(Self::wrong())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<RawSlo, E> {
        Err(Self::wrong())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<RawSlo, E> {
        Err(Self::wrong())
    }

    fn visit_seq<S: SeqAccess<'de>>(self, _: S) -> Result<RawSlo, S::Error> {
        Err(Self::wrong())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawScopedSlo {
    /// A request name (as in the summary table); absent means all requests.
    pub(crate) request: Option<String>,
    /// `p95 < 3s`, `error-rate < 1%`, `throughput > 200/s`, `max < 10s`, `mean < 1s`;
    /// also `... over any 30s`, `p95 drift < 30% first 10m vs last 10m after 5m`,
    /// `recovery < 5m`. A breach fails the run (the same as `critical`).
    pub(crate) check: Option<String>,
    /// A check whose breach is a warning (WARN; exit 0 unless `--strict`).
    pub(crate) target: Option<String>,
    /// A check whose breach fails the run (FAIL; exit 4).
    pub(crate) critical: Option<String>,
    /// Only requests completed during this stage count.
    pub(crate) during: Option<String>,
    /// Stop the run as soon as this (windowed) check is breached.
    pub(crate) abort: Option<bool>,
    /// With `abort`: how long the breach must last before the run stops (default 0s).
    pub(crate) abort_grace: Option<String>,
}

// The one-or-many shapes below are read by hand, as a `Value` checked against each form,
// and named through `deserialize_newtype_struct`: the plan's deserialiser then says what
// the key takes in plan words (see `plan::deserialize`), with no untagged enum's message.

/// Reads a `Value` through a newtype named `name`, then makes `T` of it or says it does
/// not fit (the deserialiser knows the name, hence the words).
fn shaped<'de, D, T>(
    deserializer: D,
    name: &'static str,
    make: fn(&Value) -> Option<T>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct Shaped<T>(fn(&Value) -> Option<T>);

    impl<'de, T> Visitor<'de> for Shaped<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a value of another shape")
        }

        fn visit_newtype_struct<D: Deserializer<'de>>(self, inner: D) -> Result<T, D::Error> {
            let value = Value::deserialize(inner)?;
            (self.0)(&value)
                .ok_or_else(|| serde::de::Error::invalid_type(Unexpected::Other("value"), &self))
        }
    }

    deserializer.deserialize_newtype_struct(name, Shaped(make))
}

impl Scalar {
    fn from_value(value: &Value) -> Option<Scalar> {
        match value {
            Value::Number(n) => Some(match n.as_i64() {
                Some(i) => Scalar::Int(i),
                None => Scalar::Float(n.as_f64()?),
            }),
            Value::String(text) => Some(Scalar::Text(text.clone())),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, "Scalar", Scalar::from_value)
    }
}

impl<'de> Deserialize<'de> for RawStatuses {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, "RawStatuses", |value| match value {
            Value::Array(items) => items
                .iter()
                .map(Scalar::from_value)
                .collect::<Option<_>>()
                .map(RawStatuses::Many),
            other => Scalar::from_value(other).map(RawStatuses::One),
        })
    }
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

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, "OneOrMany", |value| match value {
            Value::String(item) => Some(OneOrMany::One(item.clone())),
            Value::Array(items) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .map(OneOrMany::Many),
            _ => None,
        })
    }
}
