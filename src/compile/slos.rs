//! `slos` → `Vec<Slo>`: thresholds parsed, request names bound to metric ids.

use super::Compiler;
use super::graph::MetricId;
use crate::plan::raw::RawSlo;
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};
use crate::slo::{Slo, SloScope, Threshold};

pub(super) fn compile(cx: &mut Compiler) -> Vec<Slo> {
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
