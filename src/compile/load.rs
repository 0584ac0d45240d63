//! `load` → `LoadSchedule`: the simple form (`users`, `spawn-rate`, `run-time`) or stages.
//! `-u/-r/-t` from the command line are already in `load` (`Overrides::edits`), so the
//! same rules judge them.

use std::time::Duration;

use super::MAX_USERS;
use super::context::Compiler;
use super::schedule::{LoadSchedule, Stage};
use crate::plan::raw::{RawLoad, RawStage};
use crate::plan::{KeyPath, PlanErrorKind};
use crate::units::Rate;

/// Seven days: longer is a typo (`5h` written `5000m`?), not a soak.
const MAX_RUN_TIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// In-flight requests time out within `MAX_TIMEOUT`; a longer grace only delays the report.
const MAX_GRACEFUL_STOP: Duration = super::MAX_TIMEOUT;
/// Locust's default spawn rate, used when `-u` is given without `-r` or a plan rate.
const DEFAULT_SPAWN_RATE: f64 = 1.0;

/// Compiles the closed-model load: the simple form or stages, and how long it runs.
pub(super) fn schedule(cx: &mut Compiler, load: Option<&RawLoad>) -> Option<LoadSchedule> {
    let path = KeyPath::root().key("load");
    let empty = RawLoad::default();
    let load = load.unwrap_or(&empty);
    let graceful_stop = graceful_stop(cx, load, &path);
    let run_time = cx.duration(load.run_time.as_deref(), &path.key("run-time"));
    let plan_rate = cx.rate(
        load.spawn_rate.as_ref().map(ToString::to_string),
        &path.key("spawn-rate"),
    );
    let mut stages = if load.stages.is_none() {
        simple(cx, load, &path, plan_rate, run_time)?
    } else {
        staged(cx, load, &path)?
    };
    let natural_end = stages.last().map_or(Duration::ZERO, Stage::end);
    let total = total(cx, load, path, run_time.unwrap_or(natural_end))?;
    // `run-time` past the last stage holds its level to the end.
    if total > natural_end {
        let level = stages.last().map_or(0, |s| s.to_users);
        stages.push(Stage {
            name: "hold".into(),
            start: natural_end,
            duration: total - natural_end,
            from_users: level,
            to_users: level,
            ramp: Duration::ZERO,
        });
    }
    Some(LoadSchedule {
        stages,
        total,
        graceful_stop,
    })
}

/// `graceful-stop` (default 5s): at most `MAX_GRACEFUL_STOP`.
fn graceful_stop(cx: &mut Compiler, load: &RawLoad, path: &KeyPath) -> Duration {
    let graceful_stop = cx
        .duration(load.graceful_stop.as_deref(), &path.key("graceful-stop"))
        .unwrap_or(Duration::from_secs(5));
    if graceful_stop > MAX_GRACEFUL_STOP {
        let found = load.graceful_stop.as_deref().unwrap_or_default();
        cx.error(
            path.key("graceful-stop"),
            PlanErrorKind::BadDuration {
                message: format!("`{found}`: expected a grace period of at most 1h"),
            },
        );
    }
    graceful_stop
}

/// The simple form's stages: `users` at `spawn-rate` (default 1/s) for `run-time`.
fn simple(
    cx: &mut Compiler,
    load: &RawLoad,
    path: &KeyPath,
    plan_rate: Option<Rate>,
    run_time: Option<Duration>,
) -> Option<Vec<Stage>> {
    if load.users.is_none() {
        cx.error(
            path.clone(),
            PlanErrorKind::BadLoad {
                message: "no load: expected `users` (with `spawn-rate` and `run-time`) or `stages`"
                    .into(),
            },
        );
        return None;
    }
    // A ramp to no users would send nothing (a stage may end at 0, not the load).
    let users = users(cx, load.users, &path.key("users"), 1)?;
    let rate = plan_rate.unwrap_or(Rate::per_second(DEFAULT_SPAWN_RATE));
    let Some(run_time) = run_time else {
        // A `run-time` that did not parse is already reported.
        if load.run_time.is_some() {
            return None;
        }
        cx.error(
            path.key("run-time"),
            PlanErrorKind::BadLoad {
                message: "missing `run-time`: how long should the test run? e.g. `run-time: 5m`"
                    .into(),
            },
        );
        return None;
    };
    Some(simple_stages(users, rate, run_time))
}

/// How long the run lasts (`run-time`, else the stages' end): more than 0s, at most
/// `MAX_RUN_TIME`.
fn total(cx: &mut Compiler, load: &RawLoad, path: KeyPath, total: Duration) -> Option<Duration> {
    if total.is_zero() {
        // A `run-time` of 0s (or `-t 0s`) is the mistake, not the whole `load`.
        let at = if load.run_time.is_some() {
            path.key("run-time")
        } else {
            path
        };
        cx.error(
            at,
            PlanErrorKind::BadLoad {
                message: "the run lasts 0s: expected a positive `run-time` or stage durations"
                    .into(),
            },
        );
        return None;
    }
    if total > MAX_RUN_TIME {
        cx.error(
            path.key("run-time"),
            PlanErrorKind::BadLoad {
                message: format!(
                    "the run would last {}: expected at most 7 days (168h)",
                    crate::units::format_duration(total)
                ),
            },
        );
        return None;
    }
    Some(total)
}

/// A user count at `path`, from `min` to `MAX_USERS`.
fn users(cx: &mut Compiler, users: Option<i64>, path: &KeyPath, min: u32) -> Option<u32> {
    let users = users?;
    if users < i64::from(min) || users > i64::from(MAX_USERS) {
        cx.error(
            path.clone(),
            PlanErrorKind::BadLoad {
                message: if users == 0 {
                    format!("0 users would send nothing: expected {min} to {MAX_USERS} users")
                } else {
                    format!("{users} users: expected {min} to {MAX_USERS} users")
                },
            },
        );
        return None;
    }
    Some(users as u32)
}

/// Ramp to `users` at `rate`, then hold until `run_time`.
fn simple_stages(users: u32, rate: Rate, run_time: Duration) -> Vec<Stage> {
    let ramp = Duration::from_secs_f64(f64::from(users) / rate.as_per_second());
    let mut stages = Vec::new();
    if users > 0 {
        stages.push(Stage {
            name: "ramp-up".into(),
            start: Duration::ZERO,
            duration: ramp,
            from_users: 0,
            to_users: users,
            ramp,
        });
    }
    let hold = run_time.saturating_sub(ramp);
    if !hold.is_zero() {
        stages.push(Stage {
            name: "hold".into(),
            start: ramp,
            duration: hold,
            from_users: users,
            to_users: users,
            ramp: Duration::ZERO,
        });
    }
    stages
}

/// The stages of `stages`, each starting where the one before ended; `None` if any is
/// wrong (all are checked).
fn staged(cx: &mut Compiler, load: &RawLoad, path: &KeyPath) -> Option<Vec<Stage>> {
    let raw_stages = load.stages.as_ref()?;
    if load.users.is_some() {
        cx.error(
            path.key("users"),
            PlanErrorKind::BadLoad {
                message: "`users` and `stages` both describe the load: keep one (stages set their own `users`)".into(),
            },
        );
    }
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
    let mut start = Duration::ZERO;
    let mut level = 0u32;
    let mut ok = true;
    for (i, raw) in raw_stages.iter().enumerate() {
        let stage_path = path.key("stages").index(i);
        match stage(cx, raw, &stage_path, start, level) {
            Some((stage, fits)) => {
                ok &= fits;
                start += stage.duration;
                level = stage.to_users;
                stages.push(stage);
            }
            None => ok = false,
        }
    }
    ok.then_some(stages)
}

/// One stage from `level` users at `start`, and whether it is right; `None` for one
/// without `duration` or `spawn-rate` (the next stage starts where this one would).
fn stage(
    cx: &mut Compiler,
    raw: &RawStage,
    stage_path: &KeyPath,
    start: Duration,
    level: u32,
) -> Option<(Stage, bool)> {
    let to = match raw.users {
        Some(u) => users(cx, Some(u), &stage_path.key("users"), 0).unwrap_or(level),
        None => level,
    };
    let duration = cx.duration(raw.duration.as_deref(), &stage_path.key("duration"));
    let rate = cx.rate(
        raw.spawn_rate.as_ref().map(ToString::to_string),
        &stage_path.key("spawn-rate"),
    );
    let (ramp, duration, fits) = ramp(cx, stage_path, to.abs_diff(level), duration, rate)?;
    let lasts = lasts(cx, duration, stage_path);
    let name = raw.name.clone().unwrap_or_else(|| match to.cmp(&level) {
        std::cmp::Ordering::Greater => "ramp-up".into(),
        std::cmp::Ordering::Less => "ramp-down".into(),
        std::cmp::Ordering::Equal => "hold".into(),
    });
    let stage = Stage {
        name,
        start,
        duration,
        from_users: level,
        to_users: to,
        ramp,
    };
    Some((stage, fits && lasts))
}

/// A stage's ramp and duration from its `duration` and `spawn-rate` (the ramp over
/// `diff` users must fit in the stage), and whether they fit.
fn ramp(
    cx: &mut Compiler,
    stage_path: &KeyPath,
    diff: u32,
    duration: Option<Duration>,
    rate: Option<Rate>,
) -> Option<(Duration, Duration, bool)> {
    match (duration, rate) {
        (Some(d), None) => Some((d, d, true)),
        (d, Some(rate)) => {
            let ramp = Duration::from_secs_f64(f64::from(diff) / rate.as_per_second());
            let duration = d.unwrap_or(ramp);
            let fits = ramp <= duration;
            if !fits {
                cx.error(
                    stage_path.key("duration"),
                    PlanErrorKind::BadLoad {
                        message: format!(
                            "ramping {diff} users at {rate} takes {:.1}s, longer than the stage's duration",
                            ramp.as_secs_f64()
                        ),
                    },
                );
            }
            Some((ramp, duration, fits))
        }
        (None, None) => {
            cx.error(
                stage_path.clone(),
                PlanErrorKind::BadLoad {
                    message: "a stage needs `duration`, `spawn-rate`, or both".into(),
                },
            );
            None
        }
    }
}

/// Whether a stage of `duration` lasts at all; a 0s stage is a plan error at its path.
pub(super) fn lasts(cx: &mut Compiler, duration: Duration, stage_path: &KeyPath) -> bool {
    if duration.is_zero() {
        cx.error(
            stage_path.key("duration"),
            PlanErrorKind::BadLoad {
                message: "a stage must last longer than 0s".into(),
            },
        );
    }
    !duration.is_zero()
}
