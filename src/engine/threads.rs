//! How many worker threads the engine runs on, chosen from the load the plan offers.
//!
//! Below a few thousand requests a second one thread is cheaper: with two, each response
//! that wakes an idle worker costs a futex wake-up and often a wake of the I/O driver
//! (an eventfd write), more system calls than the request's own write and read. At 2,000
//! req/s one thread used about a fifth less CPU per request than two. A load that may need
//! more (users without think time, high arrival rates) gets a thread per core. `--threads` overrides the choice.

use crate::compile::{Action, ExecPlan, Task};

/// The most requests a second one worker thread is given. planrun spends tens of
/// microseconds of CPU per request, so this keeps the thread well under a tenth busy:
/// queueing in the generator stays far below what it measures.
pub const ONE_THREAD_UP_TO: f64 = 5_000.0;

/// Worker threads for `exec` on a machine with `cores` cores.
pub fn worker_threads(exec: &ExecPlan, cores: usize) -> usize {
    match offered_rate(exec) {
        Some(rate) if rate <= ONE_THREAD_UP_TO => 1,
        _ => cores.max(1),
    }
}

/// Requests a second the plan offers at its peak if responses were instant; `None` when
/// unbounded (users without think time). An upper bound: `when` steps may be skipped.
pub fn offered_rate(exec: &ExecPlan) -> Option<f64> {
    if let Some(arrivals) = &exec.arrivals {
        let longest_task = exec
            .classes
            .iter()
            .flat_map(|c| &c.tasks)
            .map(requests_in)
            .max()
            .unwrap_or(1);
        let bursts = !exec.bursts.is_empty();
        return (!bursts).then(|| arrivals.peak_rate() * longest_task as f64);
    }
    let mut rate = 0.0;
    for (class, &users) in exec.classes.iter().zip(&exec.mix.per_class) {
        if users == 0 {
            continue;
        }
        let tasks = class.think.tasks_per_second()? * f64::from(users);
        let shares = class.picker.shares();
        let per_task: f64 = class
            .tasks
            .iter()
            .zip(shares)
            .map(|(task, share)| share * requests_in(task) as f64)
            .sum();
        rate += tasks * per_task;
    }
    (exec.bursts.is_empty()).then_some(rate)
}

fn requests_in(task: &Task) -> usize {
    task.actions
        .iter()
        .filter(|a| matches!(a, Action::Request(_)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{Overrides, compile};
    use crate::plan;

    fn exec(yaml: &str) -> ExecPlan {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.yaml");
        std::fs::write(&path, yaml).unwrap();
        let loaded = plan::load(&path, &[]).unwrap();
        compile(&loaded, &Overrides::default()).unwrap()
    }

    #[test]
    fn users_with_think_time_offer_their_rate_and_get_one_thread() {
        // 100 users, one task of two requests every 2 s on average: 100 req/s.
        let exec = exec(
            "host: http://127.0.0.1:9\nclasses:\n  U:\n    think-time: between 1s 3s\n    \
             tasks:\n      t:\n        steps:\n          - { path: /a }\n          - { path: /b }\n\
             load: { users: 100, spawn-rate: 100/s, run-time: 10s }\n",
        );
        let rate = offered_rate(&exec).unwrap();
        assert!((rate - 100.0).abs() < 1e-9, "{rate}");
        assert_eq!(worker_threads(&exec, 2), 1);
    }

    #[test]
    fn users_without_think_time_get_every_core() {
        let exec = exec(
            "host: http://127.0.0.1:9\nclasses:\n  U:\n    tasks: { t: { path: /a } }\n\
             load: { users: 50, spawn-rate: 50/s, run-time: 10s }\n",
        );
        assert_eq!(offered_rate(&exec), None);
        assert_eq!(worker_threads(&exec, 4), 4);
    }

    #[test]
    fn arrival_rates_count_at_their_peak() {
        let low = exec(
            "host: http://127.0.0.1:9\nclasses:\n  U:\n    tasks: { t: { path: /a } }\n\
             load: { rate: 2000/s, run-time: 10s }\n",
        );
        assert!((offered_rate(&low).unwrap() - 2000.0).abs() < 1e-6);
        assert_eq!(worker_threads(&low, 2), 1);
        let high = exec(
            "host: http://127.0.0.1:9\nclasses:\n  U:\n    tasks: { t: { path: /a } }\n\
             load: { rate: 20000/s, run-time: 10s }\n",
        );
        assert_eq!(worker_threads(&high, 2), 2);
    }
}
