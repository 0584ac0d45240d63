//! The process's open-file limit: raised to the hard limit at start (each user holds a
//! socket, and the default soft limit of 1,024 is below many plans' peak), read again
//! when a run ran out of descriptors so the report can name the limit, and compared
//! with the plan's peak connections by `planrun check`.

use crate::compile::ExecPlan;

/// The open-file limit (`RLIMIT_NOFILE`): what a process may open, and what it may
/// raise its own limit to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFileLimit {
    /// Descriptors this process may hold (`ulimit -n`).
    pub(crate) soft: u64,
    /// The most `soft` may be raised to without privileges (`ulimit -Hn`).
    pub(crate) hard: u64,
}

/// The current limit, where the operating system has one.
// `rlim_t` is `u64` on Linux and macOS, not on every Unix: the casts are kept.
#[allow(clippy::unnecessary_cast)]
pub fn open_file_limit() -> Option<OpenFileLimit> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `rlimit` into the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return None;
        }
        Some(OpenFileLimit {
            soft: limit.rlim_cur as u64,
            hard: limit.rlim_max as u64,
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Raises the soft open-file limit to the hard one, as far as the system allows, and
/// returns the limit now in force. Called once at start, before any socket is opened.
#[allow(clippy::unnecessary_cast)]
pub fn raise_open_file_limit() -> Option<OpenFileLimit> {
    let limit = open_file_limit()?;
    #[cfg(unix)]
    if limit.soft < limit.hard {
        // macOS refuses a soft limit above `OPEN_MAX` even when the hard limit is
        // unlimited; try the hard limit, then that.
        for wanted in [limit.hard, 10_240] {
            let raised = libc::rlimit {
                rlim_cur: wanted.min(limit.hard) as libc::rlim_t,
                rlim_max: limit.hard as libc::rlim_t,
            };
            // SAFETY: setrlimit reads the struct it is given; it changes only this process.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                break;
            }
        }
    }
    open_file_limit()
}

/// Descriptors the process holds besides its connections (runtime, files, listeners).
const BASE_DESCRIPTORS: u64 = 64;

/// The most connections the plan can hold open at once: a socket per user at the peak
/// (per session in the open model) plus one per request of the largest burst.
pub(crate) fn peak_connections(exec: &ExecPlan) -> u64 {
    let users = match &exec.arrivals {
        Some(arrivals) => u64::from(arrivals.sessions),
        None => u64::from(exec.schedule.peak()),
    };
    // Bursts at different instants rarely overlap: the largest is what adds at once.
    let burst = exec.bursts.iter().map(|b| u64::from(b.size)).max();
    users + burst.unwrap_or(0)
}

/// `planrun check`'s warning when the plan would run out of descriptors here.
pub fn open_file_warning(exec: &ExecPlan, limit: Option<OpenFileLimit>) -> Option<String> {
    let limit = limit?;
    let needed = peak_connections(exec) + BASE_DESCRIPTORS;
    // planrun raises its soft limit to the hard one at start: the hard one is what counts.
    if needed <= limit.hard {
        return None;
    }
    Some(format!(
        "warning: the plan can hold {} connections at once (users at the peak, sessions and bursts), \
         but this machine's open-file limit is {} (`ulimit -Hn`): requests beyond it fail as \
         `local-resources` and the run is not trustworthy; raise it with `ulimit -n {}` (as root, \
         or in /etc/security/limits.conf) before running",
        peak_connections(exec),
        limit.hard,
        (needed * 2).next_power_of_two().max(65_536)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_never_lowers_the_limit() {
        let before = open_file_limit();
        let after = raise_open_file_limit();
        if let (Some(before), Some(after)) = (before, after) {
            assert!(after.soft >= before.soft);
            assert_eq!(after.hard, before.hard);
        }
    }

    fn exec(yaml: &str) -> ExecPlan {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.yaml");
        std::fs::write(&path, yaml).unwrap();
        let loaded = crate::plan::load(&path, &[]).unwrap();
        crate::compile::compile(&loaded, &crate::compile::Overrides::default()).unwrap()
    }

    const LIMIT: OpenFileLimit = OpenFileLimit {
        soft: 256,
        hard: 1024,
    };

    #[test]
    fn check_warns_when_the_peak_exceeds_the_hard_limit() {
        let plan = |users: u32, burst: &str| {
            exec(&format!(
                "host: http://127.0.0.1:9\nclasses:\n  U:\n    tasks:\n      t: {{ path: /a }}\n\
                 load: {{ users: {users}, spawn-rate: 100/s, run-time: 10s{burst} }}\n"
            ))
        };
        // The soft limit is raised at start: only the hard one matters.
        assert_eq!(open_file_warning(&plan(900, ""), Some(LIMIT)), None);
        let warning = open_file_warning(&plan(2000, ""), Some(LIMIT)).unwrap();
        assert!(warning.contains("2000 connections"), "{warning}");
        assert!(warning.contains("limit is 1024"), "{warning}");
        assert!(warning.contains("`ulimit -n 65536`"), "{warning}");
        // A burst's requests each open a connection of their own.
        let bursts = ", bursts: [{ request: t, size: 500, at: 5s }]";
        let warning = open_file_warning(&plan(900, bursts), Some(LIMIT)).unwrap();
        assert!(warning.contains("1400 connections"), "{warning}");
        assert_eq!(open_file_warning(&plan(2000, ""), None), None);
    }

    #[test]
    fn open_model_plans_count_their_sessions() {
        let open = exec(
            "host: http://127.0.0.1:9\nclasses:\n  U:\n    tasks:\n      t: { path: /a }\n\
             load: { rate: 10/s, run-time: 10s, sessions: 5000, max-in-flight: 5000 }\n",
        );
        assert_eq!(peak_connections(&open), 5000);
        assert!(open_file_warning(&open, Some(LIMIT)).is_some());
    }
}
