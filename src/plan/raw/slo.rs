//! `slos:` items: a check string, or a map with a scope, levels and a window.

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, SeqAccess, Visitor};

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
