//! `Results::scrubbed`: the secrets' values hidden in every string of the document (map
//! keys too), field by field, before any renderer sees them. This is the one place
//! reports are scrubbed: every renderer (files, exports, the terminal) reads only
//! `Results`, and scrubbing here, before each renderer escapes text its own way (CSV
//! quotes, Markdown backslashes, YAML in HTML), leaves no escaped form to chase in the
//! rendered bytes.
//!
//! Each type lists its fields that hold text; a field left out of `scrub_text!` is not
//! scrubbed, which `every_string_in_the_document_is_scrubbed` catches for the fixture.

use indexmap::IndexMap;

use super::*;
use crate::compile::Secrets;
use crate::slo::WindowVerdict;

impl Results {
    /// `self` with every secret's value replaced in its text.
    pub(super) fn scrubbed(mut self, secrets: &Secrets) -> Self {
        if !secrets.is_empty() {
            self.scrub(secrets);
        }
        self
    }
}

/// Text that may quote a secret.
trait Scrub {
    fn scrub(&mut self, secrets: &Secrets);
}

impl Scrub for String {
    fn scrub(&mut self, secrets: &Secrets) {
        *self = secrets.scrub(self);
    }
}

impl<T: Scrub> Scrub for Option<T> {
    fn scrub(&mut self, secrets: &Secrets) {
        if let Some(value) = self {
            value.scrub(secrets);
        }
    }
}

impl<T: Scrub> Scrub for Vec<T> {
    fn scrub(&mut self, secrets: &Secrets) {
        self.iter_mut().for_each(|item| item.scrub(secrets));
    }
}

impl<T: Scrub> Scrub for IndexMap<String, T> {
    fn scrub(&mut self, secrets: &Secrets) {
        *self = std::mem::take(self)
            .into_iter()
            .map(|(mut key, mut value)| {
                key.scrub(secrets);
                value.scrub(secrets);
                (key, value)
            })
            .collect();
    }
}

/// The resolved plan: a document of its own.
impl Scrub for serde_json::Value {
    fn scrub(&mut self, secrets: &Secrets) {
        secrets.scrub_json(self);
    }
}

/// Numbers hold no text.
macro_rules! no_text {
    ($($ty:ty),* $(,)?) => {
        $(impl Scrub for $ty {
            fn scrub(&mut self, _: &Secrets) {}
        })*
    };
}

no_text!(u32, f64, RequestInterval);

impl Scrub for Percentiles {
    fn scrub(&mut self, secrets: &Secrets) {
        self.0.scrub(secrets);
    }
}

/// `Type { field, … }`: the fields of `Type` that hold text, or types that do.
macro_rules! scrub_text {
    ($($ty:ty { $($field:ident),* $(,)? })*) => {
        $(impl Scrub for $ty {
            fn scrub(&mut self, secrets: &Secrets) {
                $(self.$field.scrub(secrets);)*
                let _ = secrets;
            }
        })*
    };
}

scrub_text! {
    Results {
        planrun_version, plan, run, tls, slos, requests, aggregate, failures, checks, outcomes,
        metrics, outcome_conflicts, series, arrivals, bursts, recovery, aborted,
        untrustworthy_reasons,
    }
    PlanInfo { name, file, host, resolved, command }
    RunInfo { users_by_class, stages }
    TlsResult { ca_file, server_name, min_version }
    StageResult { name }
    SloResult { slo, scope, metric, comparison, measured_text, threshold_text, window }
    WindowVerdict { first_text, last_text }
    RequestResult { name, method, latency, service_percentiles_ms, service_histogram }
    LatencyResult { percentiles_ms, histogram }
    FailureResult { name, method, category, reason }
    CheckResult { request, name }
    OutcomeResult { request, name }
    OutcomeConflictResult { request, outcomes }
    BusinessResult { name, kind, description, outcomes }
    IntervalResult { percentiles_ms, total, by_request, history }
    IntervalTotals { percentiles_ms }
    NameHistoryResult { name, method, total, window_percentiles_ms }
    ArrivalsResult { stages }
    ArrivalStageResult { name }
    BurstResult { name }
    RecoveryResult { request }
    AbortedResult { slo, reason }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::report::results::fixture;

    const SECRET: &str = "s3cr3t-t0ken-value";

    /// Where a string can be planted: a string value, or a map key.
    #[derive(Debug, Clone)]
    enum Step {
        Key(String),
        Index(usize),
    }

    /// The fixture with every section filled, so that every type holds some text.
    fn full_results() -> Results {
        let mut results = fixture::open_results();
        let troubled = fixture::troubled_results();
        results.untrustworthy_reasons = troubled.untrustworthy_reasons;
        results.outcome_conflicts = troubled.outcome_conflicts;
        results.plan.command = Some("planrun plans/checkout.yaml".into());
        results.slos[0].window = Some(WindowVerdict {
            from_s: 0.0,
            to_s: 2.0,
            windows: 2,
            breached: 1,
            first_breach_s: Some(1.0),
            first_text: Some("1%".into()),
            last_text: Some("2%".into()),
        });
        results.series[0].history = vec![NameHistoryResult {
            name: "checkout".into(),
            method: "POST".into(),
            total: results.series[0].total.clone(),
            window_percentiles_ms: results.series[0].percentiles_ms.clone(),
        }];
        results
    }

    /// Every string value and map key in `value`, as paths.
    fn plantable(value: &Value, at: &mut Vec<Step>, found: &mut Vec<(Vec<Step>, bool)>) {
        match value {
            Value::String(_) => found.push((at.clone(), false)),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    at.push(Step::Index(i));
                    plantable(item, at, found);
                    at.pop();
                }
            }
            Value::Object(map) => {
                for (key, child) in map {
                    at.push(Step::Key(key.clone()));
                    found.push((at.clone(), true));
                    plantable(child, at, found);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    /// `value` with `SECRET` added to the string or key at `path`.
    fn planted(mut value: Value, path: &[Step], key: bool) -> Value {
        let (last, parents) = path.split_last().expect("a path");
        let mut node = &mut value;
        for step in parents {
            node = match step {
                Step::Key(k) => &mut node[k.as_str()],
                Step::Index(i) => &mut node[*i],
            };
        }
        match (last, key) {
            (Step::Key(k), true) => {
                let map = node.as_object_mut().expect("an object");
                let child = map.shift_remove(k).expect("the key");
                map.insert(format!("{k}{SECRET}"), child);
            }
            (Step::Key(k), false) => {
                let text = node[k.as_str()].as_str().unwrap_or_default();
                node[k.as_str()] = format!("{text}{SECRET}").into();
            }
            (Step::Index(i), _) => {
                let text = node[*i].as_str().unwrap_or_default();
                node[*i] = format!("{text}{SECRET}").into();
            }
        }
        value
    }

    /// The secret planted in each string and map key in turn: wherever the document still
    /// loads (not an enum, a date or a field's name), the typed scrub hides it.
    #[test]
    fn every_string_in_the_document_is_scrubbed() {
        let secrets = Secrets::new([("TOKEN", SECRET)]);
        let value = serde_json::to_value(full_results()).unwrap();
        let mut paths = Vec::new();
        plantable(&value, &mut Vec::new(), &mut paths);
        let mut loaded = 0;
        for (path, key) in &paths {
            let Ok(results) = serde_json::from_value::<Results>(planted(value.clone(), path, *key))
            else {
                continue;
            };
            loaded += 1;
            let text = serde_json::to_string(&results.scrubbed(&secrets)).unwrap();
            assert!(!text.contains(SECRET), "the secret at {path:?} was kept");
        }
        assert!(
            loaded > 200,
            "only {loaded} of {} places loaded",
            paths.len()
        );
    }
}
