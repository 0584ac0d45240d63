//! `slos` → `Vec<Slo>`: thresholds parsed, request names bound to metric ids.

use super::Compiler;
use super::business::{BusinessId, BusinessKind, BusinessMetric};
use super::graph::MetricId;
use crate::plan::raw::RawSlo;
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};
use crate::slo::{Slo, SloMetric, SloScope, Threshold};

pub(super) fn compile(cx: &mut Compiler, business: &[BusinessMetric]) -> Vec<Slo> {
    let Some(raw_slos) = cx.plan.raw.slos.clone() else {
        return Vec::new();
    };
    let mut slos = Vec::new();
    for (i, raw) in raw_slos.iter().enumerate() {
        let path = KeyPath::root().key("slos").index(i);
        let (request, check, check_path) = match raw {
            RawSlo::Check(check) => (None, check, path.clone()),
            RawSlo::Scoped(scoped) => (scoped.request.as_ref(), &scoped.check, path.key("check")),
        };
        // `booking-success-rate > 95%`: an SLO on a business metric, over the whole run.
        let first = check.split_whitespace().next().unwrap_or_default();
        if let Some(index) = business.iter().position(|m| m.name == first) {
            let metric = &business[index];
            let kind = match metric.kind {
                BusinessKind::Rate { .. } => SloMetric::Rate,
                BusinessKind::Count => SloMetric::Count,
            };
            if request.is_some() {
                cx.error(
                    path.key("request"),
                    PlanErrorKind::BadSlo {
                        found: check.clone(),
                        message: format!("`{first}` is a business metric: it takes no `request`"),
                    },
                );
                continue;
            }
            match Threshold::parse_business(check, kind) {
                Ok(threshold) => slos.push(Slo {
                    scope: SloScope::Business {
                        name: metric.name.clone(),
                        id: BusinessId(index as u32),
                    },
                    threshold,
                }),
                Err(message) => cx.error(
                    check_path,
                    PlanErrorKind::BadSlo {
                        found: check.clone(),
                        message,
                    },
                ),
            }
            continue;
        }
        let threshold = match Threshold::parse(check) {
            Ok(t) => t,
            Err(message) => {
                cx.error(
                    check_path,
                    PlanErrorKind::BadSlo {
                        found: check.clone(),
                        message,
                    },
                );
                continue;
            }
        };
        let scope = match request {
            None => SloScope::All,
            Some(name) => match cx.metrics.iter().position(|m| &m.name == name) {
                Some(index) => SloScope::Request {
                    name: name.clone(),
                    metric: MetricId(index as u32),
                },
                None => {
                    let hint = did_you_mean(name, cx.metrics.iter().map(|m| m.name.as_str()));
                    cx.error_with_hint(
                        path.key("request"),
                        PlanErrorKind::UnknownRequest { name: name.clone() },
                        hint,
                    );
                    continue;
                }
            },
        };
        slos.push(Slo { scope, threshold });
    }
    slos
}
