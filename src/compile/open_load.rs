//! `load` with `rate` → `ArrivalPlan` plus the `LoadSchedule` its stages name (no users:
//! the stages carry only names and times, for reports and `during:` SLOs).
//!
//! Forms: `rate: 1000/min` with `run-time`; `rate: {task: 1000/min, …}` (a stream per task,
//! named by task, `Class.task`, or the name of the one request a task sends);
//! `stages` whose items set `rate` (ramping linearly over `ramp`, default the whole stage,
//! from the previous stage's rate, or from a top-level `rate`, or from 0).

use std::time::Duration;

use super::arrival_plan::{ArrivalPlan, ArrivalStream, RateCurve, Segment, Spacing, TaskPick};
use super::graph::{Action, UserClass};
use super::schedule::{LoadSchedule, Stage};
use super::{Compiler, MAX_USERS};
use crate::plan::raw::{RawLoad, RawRate, Scalar};
use crate::plan::{KeyPath, PlanErrorKind, did_you_mean};
use crate::units::Rate;

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
    let graceful_stop = cx
        .duration(load.graceful_stop.as_deref(), &path.key("graceful-stop"))
        .unwrap_or(Duration::from_secs(5));
    // `-t` is in `load.run-time` already, as an edit of the plan.
    let run_time = cx.duration(load.run_time.as_deref(), &path.key("run-time"));
    let spacing = match load.arrivals.as_deref() {
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
    };
    let max_in_flight =
        count(cx, load.max_in_flight, &path.key("max-in-flight")).unwrap_or(DEFAULT_MAX_IN_FLIGHT);
    let sessions = count(cx, load.sessions, &path.key("sessions")).unwrap_or(max_in_flight);

    let (stages, streams) = match (&load.rate, &load.stages) {
        (Some(RawRate::PerTask(_)), Some(_)) => {
            cx.error(
                path.key("rate"),
                PlanErrorKind::BadLoad {
                    message: "a rate per task cannot be combined with `stages`: use one `rate` for the mix, or drop `stages`".into(),
                },
            );
            return None;
        }
        (Some(RawRate::PerTask(rates)), None) => {
            let total = required_run_time(cx, run_time, &path)?;
            let mut streams = Vec::new();
            for (name, rate) in rates {
                let rate_path = path.key("rate").key(name.clone());
                let pick = task_named(cx, classes, name, &rate_path);
                let rate = cx.rate(Some(rate.to_string()), &rate_path);
                if let (Some(pick), Some(rate)) = (pick, rate) {
                    streams.push(ArrivalStream {
                        pick,
                        curve: RateCurve::constant(rate.as_per_second(), total),
                    });
                }
            }
            (vec![hold("hold", Duration::ZERO, total)], streams)
        }
        (Some(RawRate::One(rate)), None) => {
            let total = required_run_time(cx, run_time, &path)?;
            let rate = cx.rate(Some(rate.to_string()), &path.key("rate"))?;
            let stream = ArrivalStream {
                pick: TaskPick::Mix,
                curve: RateCurve::constant(rate.as_per_second(), total),
            };
            (vec![hold("hold", Duration::ZERO, total)], vec![stream])
        }
        (start, Some(_)) => {
            let start = match start {
                Some(RawRate::One(rate)) => cx
                    .rate(Some(rate.to_string()), &path.key("rate"))
                    .map_or(0.0, Rate::as_per_second),
                _ => 0.0,
            };
            let (stages, curve) = staged(cx, load, start, &path)?;
            let stream = ArrivalStream {
                pick: TaskPick::Mix,
                curve,
            };
            (stages, vec![stream])
        }
        (None, None) => unreachable!("`is_open` saw a rate"),
    };
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
    let streams = streams
        .into_iter()
        .map(|s| ArrivalStream {
            pick: s.pick,
            curve: fit(s.curve, total),
        })
        .collect();
    let mut stages = stages;
    if total > natural_end {
        stages.push(hold("hold", natural_end, total - natural_end));
    }
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
    // Each rate is within the bound; per-task rates add up.
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
    Some((schedule, plan))
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

/// `task` or `Class.task`, the task a per-task rate drives.
fn task_named(
    cx: &mut Compiler,
    classes: &[UserClass],
    name: &str,
    path: &KeyPath,
) -> Option<TaskPick> {
    let (class_name, task_name) = match name.split_once('.') {
        Some((c, t)) if classes.iter().any(|k| k.name == c) => (Some(c), t),
        _ => (None, name),
    };
    let found: Vec<TaskPick> = classes
        .iter()
        .enumerate()
        .filter(|(_, c)| class_name.is_none_or(|n| c.name == n))
        .flat_map(|(ci, c)| {
            c.tasks
                .iter()
                .enumerate()
                .filter(|(_, t)| t.name == task_name)
                .map(move |(ti, _)| TaskPick::Task {
                    class: ci,
                    task: ti,
                })
        })
        .collect();
    // Not a task name: a request name, when exactly one task sends only that request
    // ("1000 req/min to pre-reserve" names the request).
    let found = if found.is_empty() && class_name.is_none() {
        by_request_name(cx, classes, task_name)
    } else {
        found
    };
    match found.as_slice() {
        [one] => Some(*one),
        [] => {
            let names = classes
                .iter()
                .flat_map(|c| c.tasks.iter().map(|t| t.name.as_str()));
            let hint = did_you_mean(task_name, names);
            cx.error_with_hint(
                path.clone(),
                PlanErrorKind::UnknownTask {
                    name: name.to_owned(),
                },
                hint,
            );
            None
        }
        _ => {
            cx.error(
                path.clone(),
                PlanErrorKind::BadLoad {
                    message: format!(
                        "more than one class has a task `{task_name}`: write `CLASS.{task_name}`"
                    ),
                },
            );
            None
        }
    }
}

/// Tasks whose only request is named `name`.
fn by_request_name(cx: &Compiler, classes: &[UserClass], name: &str) -> Vec<TaskPick> {
    let mut found = Vec::new();
    for (ci, class) in classes.iter().enumerate() {
        for (ti, task) in class.tasks.iter().enumerate() {
            let requests: Vec<_> = task
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::Request(id) => Some(cx.requests[id.0 as usize].metric),
                    Action::Set(_) | Action::Pause(_) => None,
                })
                .collect();
            if let [metric] = requests.as_slice() {
                if cx.metrics[metric.0 as usize].name == name {
                    found.push(TaskPick::Task {
                        class: ci,
                        task: ti,
                    });
                }
            }
        }
    }
    found
}

/// A stage `rate`, where 0 is allowed (a spike ramps back down to nothing).
fn stage_rate(cx: &mut Compiler, rate: &Scalar, path: &KeyPath) -> Option<f64> {
    let text = rate.to_string();
    let number = text.split('/').next().unwrap_or("").trim();
    if number.parse::<f64>() == Ok(0.0) {
        return Some(0.0);
    }
    cx.rate(Some(text), path).map(Rate::as_per_second)
}

fn staged(
    cx: &mut Compiler,
    load: &RawLoad,
    start_rate: f64,
    path: &KeyPath,
) -> Option<(Vec<Stage>, RateCurve)> {
    let raw_stages = load.stages.as_ref()?;
    if raw_stages.is_empty() {
        cx.error(
            path.key("stages"),
            PlanErrorKind::BadLoad {
                message: "`stages` is empty: expected at least one stage".into(),
            },
        );
        return None;
    }
    let mut stages = Vec::new();
    let mut segments = Vec::new();
    let mut start = Duration::ZERO;
    let mut level = start_rate;
    let mut ok = true;
    for (i, raw) in raw_stages.iter().enumerate() {
        let stage_path = path.key("stages").index(i);
        for (key, set) in [
            ("users", raw.users.is_some()),
            ("spawn-rate", raw.spawn_rate.is_some()),
        ] {
            if set {
                cx.error(
                    stage_path.key(key),
                    PlanErrorKind::BadLoad {
                        message: format!("`{key}` in a stage of an arrival-rate load: its stages set `rate` (arrivals per unit of time)"),
                    },
                );
                ok = false;
            }
        }
        let to = match &raw.rate {
            Some(rate) => stage_rate(cx, rate, &stage_path.key("rate")).unwrap_or(level),
            None => level,
        };
        let Some(duration) = cx.duration(raw.duration.as_deref(), &stage_path.key("duration"))
        else {
            if raw.duration.is_none() {
                cx.error(
                    stage_path.key("duration"),
                    PlanErrorKind::BadLoad {
                        message: "a stage of an arrival-rate load needs `duration`".into(),
                    },
                );
            }
            ok = false;
            continue;
        };
        if !super::load::lasts(cx, duration, &stage_path) {
            ok = false;
            continue;
        }
        let ramp = cx
            .duration(raw.ramp.as_deref(), &stage_path.key("ramp"))
            .unwrap_or(duration);
        if ramp > duration {
            cx.error(
                stage_path.key("ramp"),
                PlanErrorKind::BadLoad {
                    message: "`ramp` is longer than the stage's `duration`".into(),
                },
            );
            ok = false;
        }
        if !ramp.is_zero() {
            segments.push(Segment {
                start,
                duration: ramp,
                from: level,
                to,
            });
        }
        if ramp < duration {
            segments.push(Segment {
                start: start + ramp,
                duration: duration - ramp,
                from: to,
                to,
            });
        }
        let name = raw.name.clone().unwrap_or_else(|| {
            if to > level {
                "ramp-up".into()
            } else if to < level {
                "ramp-down".into()
            } else {
                "hold".into()
            }
        });
        stages.push(Stage {
            name,
            start,
            duration,
            from_users: 0,
            to_users: 0,
            ramp,
        });
        start += duration;
        level = to;
    }
    ok.then_some((stages, RateCurve { segments }))
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
