//! `stages` of an arrival-rate load → named `Stage`s and the `RateCurve` they draw: each
//! stage ramps linearly over `ramp` (default the whole stage) from the previous stage's
//! rate, then holds.

use std::time::Duration;

use crate::compile::arrival_plan::{RateCurve, Segment};
use crate::compile::context::Compiler;
use crate::compile::schedule::Stage;
use crate::plan::raw::{RawLoad, RawStage, Scalar};
use crate::plan::{KeyPath, PlanErrorKind};
use crate::units::Rate;

pub(super) fn staged(
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
    let mut staging = Staging {
        stages: Vec::new(),
        segments: Vec::new(),
        start: Duration::ZERO,
        level: start_rate,
        ok: true,
    };
    for (i, raw) in raw_stages.iter().enumerate() {
        staging.add(cx, raw, &path.key("stages").index(i));
    }
    let Staging {
        stages,
        segments,
        ok,
        ..
    } = staging;
    ok.then_some((stages, RateCurve { segments }))
}

/// The stages and curve segments so far, where the next stage starts and from what rate;
/// `ok` turns false at the first mistake (the rest are still checked and reported).
struct Staging {
    stages: Vec<Stage>,
    segments: Vec<Segment>,
    start: Duration,
    level: f64,
    ok: bool,
}

impl Staging {
    /// Checks one stage and appends it (a stage without a usable duration is left out).
    fn add(&mut self, cx: &mut Compiler, raw: &RawStage, stage_path: &KeyPath) {
        if !no_user_count_keys(cx, raw, stage_path) {
            self.ok = false;
        }
        let to = match &raw.rate {
            Some(rate) => stage_rate(cx, rate, &stage_path.key("rate")).unwrap_or(self.level),
            None => self.level,
        };
        let Some(duration) = stage_duration(cx, raw, stage_path) else {
            self.ok = false;
            return;
        };
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
            self.ok = false;
        }
        self.push(raw.name.clone(), to, duration, ramp);
    }

    /// Ramps from the current level to `to` over `ramp`, holds `to` for the rest of
    /// `duration`, and names the stage by what it does unless the plan named it.
    fn push(&mut self, name: Option<String>, to: f64, duration: Duration, ramp: Duration) {
        let (start, level) = (self.start, self.level);
        if !ramp.is_zero() {
            self.segments.push(Segment {
                start,
                duration: ramp,
                from: level,
                to,
            });
        }
        if ramp < duration {
            self.segments.push(Segment {
                start: start + ramp,
                duration: duration - ramp,
                from: to,
                to,
            });
        }
        let name = name.unwrap_or_else(|| {
            if to > level {
                "ramp-up".into()
            } else if to < level {
                "ramp-down".into()
            } else {
                "hold".into()
            }
        });
        self.stages.push(Stage {
            name,
            start,
            duration,
            from_users: 0,
            to_users: 0,
            ramp,
        });
        self.start += duration;
        self.level = to;
    }
}

/// Whether the stage is free of `users` and `spawn-rate` (each one found is reported).
fn no_user_count_keys(cx: &mut Compiler, raw: &RawStage, stage_path: &KeyPath) -> bool {
    let mut ok = true;
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
    ok
}

/// The stage's `duration`, which an arrival-rate stage must give, longer than 0s.
fn stage_duration(cx: &mut Compiler, raw: &RawStage, stage_path: &KeyPath) -> Option<Duration> {
    let Some(duration) = cx.duration(raw.duration.as_deref(), &stage_path.key("duration")) else {
        if raw.duration.is_none() {
            cx.error(
                stage_path.key("duration"),
                PlanErrorKind::BadLoad {
                    message: "a stage of an arrival-rate load needs `duration`".into(),
                },
            );
        }
        return None;
    };
    crate::compile::load::lasts(cx, duration, stage_path).then_some(duration)
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
