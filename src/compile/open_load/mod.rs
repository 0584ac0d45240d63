//! `load` with `rate` → `ArrivalPlan` plus the `LoadSchedule` its stages name (no users:
//! the stages carry only names and times, for reports and `during:` SLOs).
//!
//! Forms: `rate: 1000/min` with `run-time`; `rate: {task: 1000/min, …}` (a stream per task,
//! named by task, `Class.task`, or the name of the one request a task sends);
//! `stages` whose items set `rate` (ramping linearly over `ramp`, default the whole stage,
//! from the previous stage's rate, or from a top-level `rate`, or from 0).

use std::time::Duration;

use super::MAX_USERS;
use super::arrival_plan::{ArrivalPlan, ArrivalStream, RateCurve, Segment, Spacing, TaskPick};
use super::context::Compiler;
use super::graph::UserClass;
use super::schedule::{LoadSchedule, Stage};
use crate::plan::raw::{RawLoad, RawRate};
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};
use crate::units::Rate;

mod stages;
mod tasks;

/// Arrivals in flight at once unless the plan says otherwise.
const DEFAULT_MAX_IN_FLIGHT: u32 = 1000;

/// Is this `load` an arrival-rate one? (`-u` has already replaced it with a closed-model
/// ramp: the flags are edits of the plan, `Overrides::edits`.)
pub(super) fn is_open(load: &RawLoad) -> bool {
    load.rate.is_some() || load.stages.iter().flatten().any(|s| s.rate.is_some())
}

pub(super) fn compile(
    cx: &mut Compiler,
    load: &RawLoad,
    classes: &[UserClass],
) -> Option<(LoadSchedule, ArrivalPlan)> {
    let path = KeyPath::root().key("load");
    reject_user_count_keys(cx, load, &path);
    let graceful_stop = cx
        .duration(load.graceful_stop.as_deref(), &path.key("graceful-stop"))
        .unwrap_or(Duration::from_secs(5));
    // `-t` is in `load.run-time` already, as an edit of the plan.
    let run_time = cx.duration(load.run_time.as_deref(), &path.key("run-time"));
    let spacing = spacing(cx, load.arrivals.as_deref(), &path);
    let max_in_flight =
        count(cx, load.max_in_flight, &path.key("max-in-flight")).unwrap_or(DEFAULT_MAX_IN_FLIGHT);
    let sessions = count(cx, load.sessions, &path.key("sessions")).unwrap_or(max_in_flight);

    let (stages, streams) = stages_and_streams(cx, load, classes, run_time, &path)?;
    let (stages, total) = run_length(cx, stages, run_time, &path)?;
    let streams = streams
        .into_iter()
        .map(|s| ArrivalStream {
            pick: s.pick,
            curve: fit(s.curve, total),
        })
        .collect();
    let schedule = LoadSchedule {
        stages,
        total,
        graceful_stop,
    };
    let plan = ArrivalPlan {
        streams,
        spacing,
        max_in_flight,
        sessions,
    };
    within_peak_rate(cx, &plan, &path)?;
    Some((schedule, plan))
}

/// `users` and `spawn-rate` describe a user-count load, not this one.
fn reject_user_count_keys(cx: &mut Compiler, load: &RawLoad, path: &KeyPath) {
    for (key, set) in [
        ("users", load.users.is_some()),
        ("spawn-rate", load.spawn_rate.is_some()),
    ] {
        if set {
            cx.error(
                path.key(key),
                PlanErrorKind::BadLoad {
                    message: format!("`{key}` belongs to a user-count load; an arrival-rate load (`rate`) sets arrivals, not users: drop `{key}` or `rate`"),
                },
            );
        }
    }
}

/// `arrivals`: how arrivals are spaced within a second (uniform unless the plan says).
fn spacing(cx: &mut Compiler, arrivals: Option<&str>, path: &KeyPath) -> Spacing {
    match arrivals {
        None | Some("uniform") => Spacing::Uniform,
        Some("poisson") => Spacing::Poisson,
        Some(other) => {
            let hint = did_you_mean(other, ["uniform", "poisson"]);
            cx.error_with_hint(
                path.key("arrivals"),
                PlanErrorKind::BadLoad {
                    message: format!("unknown arrivals `{other}`: expected `uniform` or `poisson`"),
                },
                hint,
            );
            Spacing::Uniform
        }
    }
}

/// The named stages and the arrival streams of the load's form: one rate, a rate per
/// task, or `stages` (which may start from a top-level `rate`).
fn stages_and_streams(
    cx: &mut Compiler,
    load: &RawLoad,
    classes: &[UserClass],
    run_time: Option<Duration>,
    path: &KeyPath,
) -> Option<(Vec<Stage>, Vec<ArrivalStream>)> {
    match (&load.rate, &load.stages) {
        (Some(RawRate::PerTask(_)), Some(_)) => {
            cx.error(
                path.key("rate"),
                PlanErrorKind::BadLoad {
                    message: "a rate per task cannot be combined with `stages`: use one `rate` for the mix, or drop `stages`".into(),
                },
            );
            None
        }
        (Some(RawRate::PerTask(rates)), None) => {
            let total = required_run_time(cx, run_time, path)?;
            let streams = tasks::streams(cx, classes, rates, total, path);
            Some((vec![hold("hold", Duration::ZERO, total)], streams))
        }
        (Some(RawRate::One(rate)), None) => {
            let total = required_run_time(cx, run_time, path)?;
            let rate = cx.rate(Some(rate.to_string()), &path.key("rate"))?;
            let stream = ArrivalStream {
                pick: TaskPick::Mix,
                curve: RateCurve::constant(rate.as_per_second(), total),
            };
            Some((vec![hold("hold", Duration::ZERO, total)], vec![stream]))
        }
        (start, Some(_)) => {
            let start = match start {
                Some(RawRate::One(rate)) => cx
                    .rate(Some(rate.to_string()), &path.key("rate"))
                    .map_or(0.0, Rate::as_per_second),
                _ => 0.0,
            };
            let (stages, curve) = stages::staged(cx, load, start, path)?;
            let stream = ArrivalStream {
                pick: TaskPick::Mix,
                curve,
            };
            Some((stages, vec![stream]))
        }
        (None, None) => unreachable!("`is_open` saw a rate"),
    }
}

/// How long the run lasts (`run-time`, or the stages' end) and the stages held until
/// then; a run of 0s is an error.
fn run_length(
    cx: &mut Compiler,
    mut stages: Vec<Stage>,
    run_time: Option<Duration>,
    path: &KeyPath,
) -> Option<(Vec<Stage>, Duration)> {
    let natural_end = stages.last().map_or(Duration::ZERO, Stage::end);
    let total = run_time.unwrap_or(natural_end);
    if total.is_zero() {
        cx.error(
            path.key("run-time"),
            PlanErrorKind::BadLoad {
                message: "the run lasts 0s: expected a positive `run-time` or stage durations"
                    .into(),
            },
        );
        return None;
    }
    if total > natural_end {
        stages.push(hold("hold", natural_end, total - natural_end));
    }
    Some((stages, total))
}

/// Each rate is within the bound; per-task rates add up, so their sum must be too.
fn within_peak_rate(cx: &mut Compiler, plan: &ArrivalPlan, path: &KeyPath) -> Option<()> {
    let peak = plan.peak_rate();
    if peak > Rate::MAX_PER_SECOND {
        cx.error(
            path.key("rate"),
            PlanErrorKind::BadLoad {
                message: format!(
                    "the rates add up to {}, over the limit of {}: {}",
                    Rate::per_second(peak),
                    Rate::MAX_TEXT,
                    Rate::MAX_WHY
                ),
            },
        );
        return None;
    }
    Some(())
}

/// Cuts a curve at `total`, or holds its last rate until then.
fn fit(curve: RateCurve, total: Duration) -> RateCurve {
    let mut segments: Vec<Segment> = Vec::new();
    for mut segment in curve.segments {
        if segment.start >= total {
            break;
        }
        let end = segment.start + segment.duration;
        if end > total {
            let kept = total - segment.start;
            let f = kept.as_secs_f64() / segment.duration.as_secs_f64();
            segment.to = segment.from + (segment.to - segment.from) * f;
            segment.duration = kept;
        }
        segments.push(segment);
    }
    let end = segments
        .last()
        .map_or(Duration::ZERO, |s| s.start + s.duration);
    if end < total {
        let rate = segments.last().map_or(0.0, |s| s.to);
        segments.push(Segment {
            start: end,
            duration: total - end,
            from: rate,
            to: rate,
        });
    }
    RateCurve { segments }
}

fn hold(name: &str, start: Duration, duration: Duration) -> Stage {
    Stage {
        name: name.into(),
        start,
        duration,
        from_users: 0,
        to_users: 0,
        ramp: Duration::ZERO,
    }
}

fn required_run_time(
    cx: &mut Compiler,
    run_time: Option<Duration>,
    path: &KeyPath,
) -> Option<Duration> {
    if run_time.is_none() {
        cx.error(
            path.key("run-time"),
            PlanErrorKind::BadLoad {
                message: "missing `run-time`: how long should arrivals come? e.g. `run-time: 5m`"
                    .into(),
            },
        );
    }
    run_time
}

fn count(cx: &mut Compiler, value: Option<i64>, path: &KeyPath) -> Option<u32> {
    let value = value?;
    if value < 1 || value > i64::from(MAX_USERS) {
        cx.error(
            path.clone(),
            PlanErrorKind::BadLoad {
                message: format!("{value}: expected a whole number from 1 to {MAX_USERS}"),
            },
        );
        return None;
    }
    Some(value as u32)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Overrides, compile};
    use crate::plan;

    /// `-u` and `-t` reach an arrival-rate load as edits of the plan (`Overrides::edits`),
    /// before compiling: `-u` turns it into a closed-model ramp, `-t` sets its length.
    #[test]
    fn users_and_run_time_flags_reach_an_arrival_rate_load_as_plan_edits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("open.yaml");
        std::fs::write(
            &path,
            "host: http://127.0.0.1:9
classes:
  A:
    tasks:
      health: { path: /healthz }
load: { rate: 10/s, run-time: 5s, arrivals: poisson }
",
        )
        .unwrap();
        let loaded = plan::load(&path, &[]).unwrap();
        let run = |overrides: Overrides| compile(&loaded, &overrides).unwrap();

        let closed = run(Overrides {
            users: Some(3),
            ..Overrides::default()
        });
        assert!(closed.arrivals.is_none(), "-u keeps an open model");
        assert_eq!(closed.schedule.peak(), 3);
        assert_eq!(closed.schedule.total, Duration::from_secs(5));

        let shorter = run(Overrides {
            run_time: Some(Duration::from_secs(2)),
            ..Overrides::default()
        });
        assert!(shorter.arrivals.is_some());
        assert_eq!(shorter.schedule.total, Duration::from_secs(2));
    }
}
