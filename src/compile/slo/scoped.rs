//! `slos` → `Vec<Slo>`: checks parsed (with their window, stage or drift), levels set,
//! request names bound to metric ids, stage names to their times, business metric names
//! (`booking-success-rate > 95%`) to their metrics.

use std::time::Duration;

use super::{Level, Over, Slo, SloId, SloMeasure, SloScope, Threshold, parse_check};
use crate::compile::business::{BusinessId, BusinessKind, BusinessMetric};
use crate::compile::context::Compiler;
use crate::compile::graph::RequestNameId;
use crate::compile::schedule::LoadSchedule;
use crate::plan::raw::{RawScopedSlo, RawSlo};
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};

/// Compiles `slos`: a plain check, or a scoped entry with its own keys.
pub(in crate::compile) fn compile(
    cx: &mut Compiler,
    schedule: Option<&LoadSchedule>,
    business: &[BusinessMetric],
) -> Vec<Slo> {
    let Some(raw_slos) = cx.plan.raw.slos.clone() else {
        return Vec::new();
    };
    let mut slos = Vec::new();
    for (i, raw) in raw_slos.iter().enumerate() {
        let path = KeyPath::root().key("slos").index(i);
        match raw {
            RawSlo::Check(check) => {
                if let Some((threshold, over, scope)) = check_at(cx, check, &path, business) {
                    if let Some(slo) = abort_only_windows(cx, &path, over, None) {
                        let id = SloId(slos.len() as u32);
                        let scope = scope.unwrap_or(SloScope::All);
                        slos.push(Slo {
                            over: slo,
                            ..Slo::whole_run(id, scope, threshold)
                        });
                    }
                }
            }
            RawSlo::Scoped(scoped) => {
                let first = SloId(slos.len() as u32);
                slos.extend(scoped_slos(cx, scoped, &path, schedule, business, first));
            }
        }
    }
    slos
}

/// Parses a check; a check on a business metric also returns its scope.
fn check_at(
    cx: &mut Compiler,
    check: &str,
    path: &KeyPath,
    business: &[BusinessMetric],
) -> Option<(Threshold, Over, Option<SloScope>)> {
    let first = check.split_whitespace().next().unwrap_or_default();
    if let Some(index) = business.iter().position(|m| m.name == first) {
        // A business metric is a count over the whole run: no windows, stages or drift.
        let kind = match business[index].kind {
            BusinessKind::Rate { .. } => SloMeasure::Rate,
            BusinessKind::Count => SloMeasure::Count,
        };
        let scope = SloScope::Business {
            name: first.to_owned(),
            id: BusinessId(index as u32),
        };
        return match Threshold::parse_business(check, kind) {
            Ok(threshold) => Some((threshold, Over::Run, Some(scope))),
            Err(message) => {
                cx.error(
                    path.clone(),
                    PlanErrorKind::BadSlo {
                        found: check.to_owned(),
                        message: format!(
                            "{message} (business metrics are checked over the whole run)"
                        ),
                    },
                );
                None
            }
        };
    }
    match parse_check(check) {
        Ok((threshold, over)) => Some((threshold, over, None)),
        Err(message) => {
            cx.error(
                path.clone(),
                PlanErrorKind::BadSlo {
                    found: check.to_owned(),
                    message,
                },
            );
            None
        }
    }
}

/// `abort` only makes sense where a breach is known before the end: in a window.
fn abort_only_windows(
    cx: &mut Compiler,
    path: &KeyPath,
    over: Over,
    abort: Option<Duration>,
) -> Option<Over> {
    if abort.is_some() && !matches!(over, Over::AnyWindow(_)) {
        cx.error(
            path.key("abort"),
            PlanErrorKind::BadSlo {
                found: "abort: true".into(),
                message: "`abort` needs a windowed check (`... over any 30s`): a whole-run, stage or drift value is only known at its end".into(),
            },
        );
        return None;
    }
    Some(over)
}

/// A scoped entry as its checks share it: where it is written, the request it scopes,
/// the stage it measures and when a breach aborts the run.
struct Entry<'a> {
    raw: &'a RawScopedSlo,
    path: &'a KeyPath,
    scope: SloScope,
    stage: Option<Over>,
    abort: Option<Duration>,
}

/// The SLOs of one scoped entry, numbered from `first`.
fn scoped_slos(
    cx: &mut Compiler,
    raw: &RawScopedSlo,
    path: &KeyPath,
    schedule: Option<&LoadSchedule>,
    business: &[BusinessMetric],
    first: SloId,
) -> Vec<Slo> {
    let checks = levels(raw, path);
    if checks.is_empty() {
        cx.error(
            path.clone(),
            PlanErrorKind::MissingKey {
                key: "check".into(),
            },
        );
        return Vec::new();
    }
    let Some(scope) = request_scope(cx, raw, path) else {
        return Vec::new();
    };
    let Some(stage) = during(cx, raw, path, schedule) else {
        return Vec::new();
    };
    let abort = abort(cx, raw, path);
    let entry = Entry {
        raw,
        path,
        scope,
        stage,
        abort,
    };
    let mut slos = Vec::new();
    for (level, check, check_path) in checks {
        let id = SloId(first.0 + slos.len() as u32);
        slos.extend(level_slo(
            cx,
            &entry,
            (level, check, &check_path),
            business,
            id,
        ));
    }
    slos
}

/// The entry's checks with their levels: `check` and `critical` are critical, `target`
/// is a target.
fn levels<'a>(raw: &'a RawScopedSlo, path: &KeyPath) -> Vec<(Level, &'a String, KeyPath)> {
    [
        (Level::Critical, raw.check.as_ref(), "check"),
        (Level::Target, raw.target.as_ref(), "target"),
        (Level::Critical, raw.critical.as_ref(), "critical"),
    ]
    .into_iter()
    .filter_map(|(level, check, key)| check.map(|c| (level, c, path.key(key))))
    .collect()
}

/// The request the entry scopes (every request without one); `None` for an unknown one.
fn request_scope(cx: &mut Compiler, raw: &RawScopedSlo, path: &KeyPath) -> Option<SloScope> {
    let Some(name) = &raw.request else {
        return Some(SloScope::All);
    };
    if let Some(index) = cx.request_names.iter().position(|m| &m.name == name) {
        return Some(SloScope::Request {
            name: name.clone(),
            id: RequestNameId(index as u32),
        });
    }
    let hint = did_you_mean(name, cx.request_names.iter().map(|m| m.name.as_str()));
    cx.error_with_hint(
        path.key("request"),
        PlanErrorKind::UnknownRequest { name: name.clone() },
        hint,
    );
    None
}

/// The stage `during` names, as what the entry measures; `None` when it names no stage
/// (reported when the schedule compiled), `Some(None)` without `during`.
fn during(
    cx: &mut Compiler,
    raw: &RawScopedSlo,
    path: &KeyPath,
    schedule: Option<&LoadSchedule>,
) -> Option<Option<Over>> {
    let Some(name) = &raw.during else {
        return Some(None);
    };
    let stages = schedule.map(|s| s.stages.as_slice()).unwrap_or_default();
    let found = stages.iter().find(|s| &s.name == name);
    if found.is_none() && schedule.is_some() {
        let hint = did_you_mean(name, stages.iter().map(|s| s.name.as_str()));
        cx.error_with_hint(
            path.key("during"),
            PlanErrorKind::UnknownStage { name: name.clone() },
            hint,
        );
    }
    found.map(|s| {
        Some(Over::Stage {
            name: s.name.clone(),
            start: s.start,
            end: s.end(),
        })
    })
}

/// With `abort: true`, how long after the start a breach may abort the run (its
/// `abort-grace`, else at once); `abort-grace` alone is an error.
fn abort(cx: &mut Compiler, raw: &RawScopedSlo, path: &KeyPath) -> Option<Duration> {
    match (raw.abort, &raw.abort_grace) {
        (Some(true), grace) => Some(
            cx.duration(grace.as_deref(), &path.key("abort-grace"))
                .unwrap_or_default(),
        ),
        (_, Some(_)) => {
            cx.error(
                path.key("abort-grace"),
                PlanErrorKind::BadSlo {
                    found: "abort-grace".into(),
                    message: "`abort-grace` applies only with `abort: true`".into(),
                },
            );
            None
        }
        _ => None,
    }
}

/// The SLO of one check of an entry at `level`, if the check fits the entry.
fn level_slo(
    cx: &mut Compiler,
    entry: &Entry,
    (level, check, check_path): (Level, &String, &KeyPath),
    business: &[BusinessMetric],
    id: SloId,
) -> Option<Slo> {
    let (threshold, over, business_scope) = check_at(cx, check, check_path, business)?;
    let scope = check_scope(cx, entry, business_scope, check)?;
    let over = check_over(cx, entry, over, check)?;
    if threshold.measure == SloMeasure::Recovery && !matches!(scope, SloScope::All) {
        cx.error(
            entry.path.key("request"),
            PlanErrorKind::BadSlo {
                found: check.clone(),
                message:
                    "`recovery` is the probe's (`load.recovery`), not a request's: drop `request`"
                        .into(),
            },
        );
        return None;
    }
    let over = abort_only_windows(cx, entry.path, over, entry.abort)?;
    Some(Slo {
        id,
        scope,
        threshold,
        level,
        over,
        abort_after: entry.abort,
    })
}

/// What a check measures: its business metric's outcomes (which take no `request`),
/// else the entry's scope.
fn check_scope(
    cx: &mut Compiler,
    entry: &Entry,
    business_scope: Option<SloScope>,
    check: &str,
) -> Option<SloScope> {
    match (business_scope, &entry.raw.request) {
        (Some(_), Some(_)) => {
            cx.error(
                entry.path.key("request"),
                PlanErrorKind::BadSlo {
                    found: check.to_owned(),
                    message: "a business metric takes no `request`: it names its outcomes".into(),
                },
            );
            None
        }
        (Some(business), None) => Some(business),
        (None, _) => Some(entry.scope.clone()),
    }
}

/// Over what a check measures: the entry's stage (the check then takes no window or
/// drift), else the check's own.
fn check_over(cx: &mut Compiler, entry: &Entry, over: Over, check: &str) -> Option<Over> {
    match (&entry.stage, over) {
        (Some(stage), Over::Run) => Some(stage.clone()),
        (Some(_), _) => {
            cx.error(
                entry.path.key("during"),
                PlanErrorKind::BadSlo {
                    found: check.to_owned(),
                    message: "`during` measures the whole stage: drop `over any …` or the drift from the check".into(),
                },
            );
            None
        }
        (None, over) => Some(over),
    }
}
