//! Business metrics: `metrics:` → `BusinessMetric`s, each a rate (outcome counts over the
//! attempts of the requests those outcomes belong to) or a count of outcomes.

use super::context::Compiler;
use super::graph::RequestNameId;
use super::inspect::OutcomeId;
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};

/// Index of a business metric in `ExecPlan::business`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BusinessId(pub(crate) u32);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusinessKind {
    /// The outcomes' count over the attempts of these request names.
    Rate {
        attempts: Vec<RequestNameId>,
    },
    Count,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessMetric {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) outcomes: Vec<OutcomeId>,
    pub(crate) kind: BusinessKind,
}

pub(super) fn compile(cx: &mut Compiler) -> Vec<BusinessMetric> {
    let Some(raw) = cx.plan.raw.metrics.clone() else {
        return Vec::new();
    };
    let mut metrics = Vec::new();
    for (name, metric) in &raw {
        let path = KeyPath::root().key("metrics").key(name.clone());
        let (key, items, rate) = match (&metric.rate, &metric.count) {
            (Some(items), None) => ("rate", items.items(), true),
            (None, Some(items)) => ("count", items.items(), false),
            _ => {
                cx.error(
                    path,
                    PlanErrorKind::BadStep {
                        message:
                            "a metric is either `rate: request.outcome` or `count: request.outcome`"
                                .into(),
                    },
                );
                continue;
            }
        };
        let mut outcomes = Vec::new();
        let mut attempts = Vec::new();
        for item in items {
            let Some(id) = outcome(cx, item, &path.key(key)) else {
                continue;
            };
            outcomes.push(id);
            let request = &cx.outcomes[id.0 as usize].request;
            if let Some(index) = cx.request_names.iter().position(|m| &m.name == request) {
                let metric = RequestNameId(index as u32);
                if !attempts.contains(&metric) {
                    attempts.push(metric);
                }
            }
        }
        metrics.push(BusinessMetric {
            name: name.clone(),
            description: metric.description.clone(),
            outcomes,
            kind: if rate {
                BusinessKind::Rate { attempts }
            } else {
                BusinessKind::Count
            },
        });
    }
    metrics
}

/// `request.outcome` → the outcome's id, or an error naming what exists.
fn outcome(cx: &mut Compiler, item: &str, path: &KeyPath) -> Option<OutcomeId> {
    let found = cx
        .outcomes
        .iter()
        .position(|o| format!("{}.{}", o.request, o.name) == item);
    if let Some(index) = found {
        return Some(OutcomeId(index as u32));
    }
    let known: Vec<String> = cx
        .outcomes
        .iter()
        .map(|o| format!("{}.{}", o.request, o.name))
        .collect();
    let hint = did_you_mean(item, known.iter().map(String::as_str)).or_else(|| {
        Some(if known.is_empty() {
            "no request declares `outcomes`".to_owned()
        } else {
            format!(
                "outcomes are written `request.outcome`: {}",
                known.join(", ")
            )
        })
    });
    cx.error_with_hint(
        path.clone(),
        PlanErrorKind::UnknownOutcome {
            name: item.to_owned(),
        },
        hint,
    );
    None
}
