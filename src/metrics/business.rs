//! `BusinessTally`: named checks' pass counts, outcome counts, and the business metrics
//! computed from them at the end of the run (rates over the attempts of their requests).

use serde::Serialize;

use super::summary::RequestStats;
use crate::compile::{BusinessKind, BusinessMetric, ExecPlan, InspectionName, OutcomeId};
use crate::engine::Inspected;

/// A named check's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckStats {
    pub(crate) request: String,
    pub name: String,
    pub passed: u64,
    pub failed: u64,
}

impl CheckStats {
    /// Passed over run; `None` when the check never ran.
    pub fn pass_rate(&self) -> Option<f64> {
        let total = self.passed + self.failed;
        (total > 0).then(|| self.passed as f64 / total as f64)
    }
}

/// How often a named outcome held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeStats {
    pub request: String,
    pub name: String,
    pub count: u64,
}

/// Responses that met more than one outcome of an `exclusive-outcomes` group: one of
/// the conditions is wrong, and the business metrics counting them cannot be trusted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeConflict {
    pub(crate) request: String,
    /// The outcomes met together, in plan order.
    pub(crate) outcomes: Vec<String>,
    /// How many responses met exactly these together.
    pub(crate) count: u64,
}

/// A business metric's value at the end of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusinessValue {
    pub name: String,
    /// `rate` or `count`.
    pub(crate) kind: &'static str,
    pub(crate) description: Option<String>,
    /// The outcomes counted (`pre-reserve.created`).
    pub(crate) outcomes: Vec<String>,
    /// How many times those outcomes held.
    pub(crate) count: u64,
    /// For a rate: the attempts of the requests the outcomes belong to.
    pub(crate) attempts: Option<u64>,
    /// A rate as a fraction (`None` with no attempts), or the count.
    pub value: Option<f64>,
}

#[derive(Debug, Default)]
pub(super) struct BusinessTally {
    checks: Vec<(u64, u64)>,
    outcomes: Vec<u64>,
    /// Exclusive outcomes met together, by the set met, in the order first seen.
    conflicts: Vec<(Vec<OutcomeId>, u64)>,
    check_names: Vec<InspectionName>,
    outcome_names: Vec<InspectionName>,
    metrics: Vec<BusinessMetric>,
}

impl BusinessTally {
    pub(super) fn new(exec: &ExecPlan) -> Self {
        Self {
            checks: vec![(0, 0); exec.checks.len()],
            outcomes: vec![0; exec.outcomes.len()],
            conflicts: Vec::new(),
            check_names: exec.checks.clone(),
            outcome_names: exec.outcomes.clone(),
            metrics: exec.business.clone(),
        }
    }

    pub(crate) fn record(&mut self, inspected: &Inspected) {
        for (id, passed) in &inspected.checks {
            let (pass, fail) = &mut self.checks[id.0 as usize];
            if *passed {
                *pass += 1;
            } else {
                *fail += 1;
            }
        }
        for id in &inspected.outcomes {
            self.outcomes[id.0 as usize] += 1;
        }
        for met in &inspected.conflicts {
            match self.conflicts.iter_mut().find(|(ids, _)| ids == met) {
                Some((_, count)) => *count += 1,
                None => self.conflicts.push((met.clone(), 1)),
            }
        }
    }

    /// Exclusive outcomes met together, most frequent first.
    pub(crate) fn conflicts(&self) -> Vec<OutcomeConflict> {
        let mut conflicts: Vec<OutcomeConflict> = self
            .conflicts
            .iter()
            .map(|(ids, count)| OutcomeConflict {
                request: self.outcome_names[ids[0].0 as usize].request.clone(),
                outcomes: ids
                    .iter()
                    .map(|id| self.outcome_names[id.0 as usize].name.clone())
                    .collect(),
                count: *count,
            })
            .collect();
        conflicts.sort_by_key(|c| std::cmp::Reverse(c.count));
        conflicts
    }

    /// The run's check counts, outcome counts and business metric values, in plan order.
    pub(super) fn finish(
        self,
        requests: &[RequestStats],
    ) -> (Vec<CheckStats>, Vec<OutcomeStats>, Vec<BusinessValue>) {
        let business = self
            .metrics
            .iter()
            .map(|metric| self.business_value(metric, requests))
            .collect();
        (self.check_stats(), self.outcome_stats(), business)
    }

    /// Each named check with how often it passed and failed.
    fn check_stats(&self) -> Vec<CheckStats> {
        self.check_names
            .iter()
            .zip(&self.checks)
            .map(|(name, (passed, failed))| CheckStats {
                request: name.request.clone(),
                name: name.name.clone(),
                passed: *passed,
                failed: *failed,
            })
            .collect()
    }

    /// Each named outcome with how often it held.
    fn outcome_stats(&self) -> Vec<OutcomeStats> {
        self.outcome_names
            .iter()
            .zip(&self.outcomes)
            .map(|(name, count)| OutcomeStats {
                request: name.request.clone(),
                name: name.name.clone(),
                count: *count,
            })
            .collect()
    }

    /// One business metric's value: its outcomes' count, as a count or as a rate over the
    /// attempts of its requests.
    fn business_value(&self, metric: &BusinessMetric, requests: &[RequestStats]) -> BusinessValue {
        let count: u64 = metric
            .outcomes
            .iter()
            .map(|id| self.outcomes[id.0 as usize])
            .sum();
        let names = metric
            .outcomes
            .iter()
            .map(|id| {
                let o = &self.outcome_names[id.0 as usize];
                format!("{}.{}", o.request, o.name)
            })
            .collect();
        let (kind, attempts, value) = match &metric.kind {
            BusinessKind::Rate { attempts } => {
                let attempts: u64 = attempts.iter().map(|m| requests[m.0 as usize].count).sum();
                let value = (attempts > 0).then(|| count as f64 / attempts as f64);
                ("rate", Some(attempts), value)
            }
            BusinessKind::Count => ("count", None, Some(count as f64)),
        };
        BusinessValue {
            name: metric.name.clone(),
            kind,
            description: metric.description.clone(),
            outcomes: names,
            count,
            attempts,
            value,
        }
    }
}
