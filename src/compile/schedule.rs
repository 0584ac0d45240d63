//! `LoadSchedule`: how many users should be running at each instant of the run.
//!
//! A list of stages, each a linear ramp from the previous level to its own followed by a
//! hold. Users are added and removed one at a time at exact instants (`changes`), so the
//! engine never polls: it sleeps until the next change.

use std::time::Duration;

use crate::units::format_duration;

/// One stage of the run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stage {
    pub(crate) name: String,
    /// Offset from the start of the run.
    pub(crate) start: Duration,
    /// Ramp plus hold.
    pub(crate) duration: Duration,
    pub(crate) from_users: u32,
    pub(crate) to_users: u32,
    /// The ramp's share of `duration`; the rest holds `to_users`.
    pub(crate) ramp: Duration,
}

impl Stage {
    pub(crate) fn end(&self) -> Duration {
        self.start + self.duration
    }

    fn diff(&self) -> u32 {
        self.to_users.abs_diff(self.from_users)
    }

    /// Users running `elapsed` into this stage. Going up, the first user starts at the
    /// stage's first instant; going down, the last one stops as the ramp ends.
    fn users_after(&self, elapsed: Duration) -> u32 {
        let diff = self.diff();
        if diff == 0 || elapsed >= self.ramp {
            return self.to_users;
        }
        let done = (elapsed.as_nanos() * u128::from(diff) / self.ramp.as_nanos()) as u32;
        if self.to_users > self.from_users {
            self.from_users + (done + 1).min(diff)
        } else {
            self.from_users - done
        }
    }

    /// The instants (from the start of the run) at which this stage changes the users.
    fn changes(&self) -> impl Iterator<Item = (Duration, u32)> + '_ {
        let diff = self.diff();
        let up = self.to_users > self.from_users;
        (1..=diff).map(move |i| {
            let step = if up { i - 1 } else { i };
            let at = self.start + self.ramp.mul_f64(f64::from(step) / f64::from(diff));
            let users = if up {
                self.from_users + i
            } else {
                self.from_users - i
            };
            (at, users)
        })
    }
}

/// The stages of a run, its total length, and its grace period.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSchedule {
    pub(crate) stages: Vec<Stage>,
    /// When the load ends; in-flight requests then get `graceful_stop` to finish.
    pub total: Duration,
    pub(crate) graceful_stop: Duration,
}

impl LoadSchedule {
    /// Users the schedule wants at `t` from the start.
    pub fn users_at(&self, t: Duration) -> u32 {
        if t >= self.total {
            return 0;
        }
        let mut users = 0;
        for stage in &self.stages {
            if t < stage.start {
                break;
            }
            users = stage.users_after(t - stage.start);
        }
        users
    }

    /// The most users the schedule ever runs.
    pub(crate) fn peak(&self) -> u32 {
        self.stages
            .iter()
            .filter(|s| s.start < self.total)
            .map(|s| s.to_users.max(s.from_users))
            .max()
            .unwrap_or(0)
    }

    /// Every change of the user count before the end, in time order: (instant, users).
    pub(crate) fn changes(&self) -> impl Iterator<Item = (Duration, u32)> + '_ {
        self.stages
            .iter()
            .flat_map(Stage::changes)
            .take_while(|(at, _)| *at < self.total)
    }

    /// Human-readable timeline, one line a stage.
    pub(crate) fn describe(&self) -> Vec<String> {
        self.stages
            .iter()
            .filter(|s| s.start < self.total)
            .map(|s| {
                let end = s.end().min(self.total);
                let what = if s.from_users == s.to_users {
                    format!("hold {} users", s.to_users)
                } else if s.ramp.is_zero() {
                    format!("jump {} → {} users", s.from_users, s.to_users)
                } else {
                    format!(
                        "ramp {} → {} users over {}",
                        s.from_users,
                        s.to_users,
                        format_duration(s.ramp)
                    )
                };
                format!(
                    "{:>8} – {:<8} {:<12} {what}",
                    format_duration(s.start),
                    format_duration(end),
                    s.name
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// 0 → 100 at 10/s, hold to 5m: the seed's peak scenario.
    fn peak() -> LoadSchedule {
        LoadSchedule {
            stages: vec![
                Stage {
                    name: "ramp-up".into(),
                    start: secs(0),
                    duration: secs(10),
                    from_users: 0,
                    to_users: 100,
                    ramp: secs(10),
                },
                Stage {
                    name: "hold".into(),
                    start: secs(10),
                    duration: secs(290),
                    from_users: 100,
                    to_users: 100,
                    ramp: Duration::ZERO,
                },
            ],
            total: secs(300),
            graceful_stop: secs(5),
        }
    }

    #[test]
    fn ramps_at_the_spawn_rate_and_holds() {
        let s = peak();
        assert_eq!(s.users_at(Duration::ZERO), 1);
        assert_eq!(s.users_at(secs(1)), 11);
        assert_eq!(s.users_at(Duration::from_millis(9_950)), 100);
        assert_eq!(s.users_at(secs(200)), 100);
        assert_eq!(s.users_at(secs(300)), 0);
        assert_eq!(s.peak(), 100);
    }

    #[test]
    fn changes_agree_with_users_at() {
        let mut s = peak();
        s.stages.push(Stage {
            name: "ramp-down".into(),
            start: secs(300),
            duration: secs(10),
            from_users: 100,
            to_users: 0,
            ramp: secs(10),
        });
        s.total = secs(310);
        let changes: Vec<_> = s.changes().collect();
        // The last user stops with the run itself, at `total`, which is not a change.
        assert_eq!(changes.len(), 199);
        for window in changes.windows(2) {
            assert!(window[0].0 <= window[1].0);
        }
        for (at, users) in &changes {
            assert_eq!(s.users_at(*at), *users, "at {at:?}");
        }
        assert_eq!(s.users_at(Duration::from_millis(309_999)), 1);
    }

    #[test]
    fn total_cuts_a_ramp_short() {
        let mut s = peak();
        s.total = secs(5);
        assert_eq!(s.changes().count(), 50);
        assert_eq!(s.peak(), 100);
        assert_eq!(s.users_at(Duration::from_millis(4_999)), 50);
    }
}
