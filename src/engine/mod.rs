//! Engine: `ExecPlan` → `Sample`s. Starts and stops virtual users at the instants the
//! `LoadSchedule` names, then stops gracefully: users finish what is in flight within
//! the grace period, after which anything still running is cancelled and counted.
//!
//! The engine never sees a plan file; it reads only the compiled graph.

mod fake;
mod inspect;
mod preflight;
mod transport;
mod user;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::compile::ExecPlan;
use crate::metrics::{Event, EventSender};

pub use fake::FakeTransport;
pub use preflight::{PreflightError, preflight};
pub use transport::{HttpSession, HttpTransport, OutgoingRequest, Response, Session, Transport};

/// How a run is told to stop early: `graceful` (first Ctrl-C, SIGTERM) ends the load and
/// lets in-flight requests finish within the grace period; `immediate` (second Ctrl-C)
/// abandons them at once.
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    pub graceful: CancellationToken,
    pub immediate: CancellationToken,
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOutcome {
    /// From the start to the last response (or cancellation).
    pub duration: Duration,
    /// Stopped by a signal before the schedule ended.
    pub interrupted: bool,
}

/// Runs the plan's load until the schedule ends or `stop` fires. Sample times are
/// offsets from `run_start`.
pub async fn run<T: Transport>(
    exec: Arc<ExecPlan>,
    transport: Arc<T>,
    events: EventSender,
    run_start: Instant,
    stop: StopSignal,
) -> EngineOutcome {
    let hard_stop = CancellationToken::new();
    let shared = Arc::new(user::Shared {
        exec: exec.clone(),
        transport,
        events,
        run_start,
        hard_stop: hard_stop.clone(),
    });
    let mut users = Users {
        shared,
        running: Vec::new(),
        tasks: JoinSet::new(),
        spawned: 0,
    };

    let mut interrupted = false;
    for (at, target) in exec.schedule.changes() {
        // A stop that has already fired wins over starting users (a Ctrl-C during the
        // preflight must not let the first users start).
        tokio::select! {
            biased;
            _ = stop.graceful.cancelled() => { interrupted = true; break; }
            _ = tokio::time::sleep_until(run_start + at) => users.set_count(target as usize),
        }
    }
    if !interrupted {
        tokio::select! {
            biased;
            _ = stop.graceful.cancelled() => interrupted = true,
            _ = tokio::time::sleep_until(run_start + exec.schedule.total) => {}
        }
    }

    users.set_count(0);
    let grace = tokio::time::sleep(exec.schedule.graceful_stop);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = users.tasks.join_next() => if next.is_none() { break },
            _ = &mut grace, if !hard_stop.is_cancelled() => hard_stop.cancel(),
            _ = stop.immediate.cancelled(), if !hard_stop.is_cancelled() => {
                interrupted = true;
                hard_stop.cancel();
            }
        }
    }
    EngineOutcome {
        duration: run_start.elapsed(),
        interrupted,
    }
}

/// The users of a run: the running ones in start order, and every task to join.
struct Users<T: Transport> {
    shared: Arc<user::Shared<T>>,
    running: Vec<CancellationToken>,
    tasks: JoinSet<()>,
    spawned: u64,
}

impl<T: Transport> Users<T> {
    /// Starts or stops users until `target` run. New users take the class the mix gives
    /// their position; users stop newest first, so the running set is always a prefix of
    /// the start order and the class mix holds while ramping in either direction.
    fn set_count(&mut self, target: usize) {
        while self.running.len() < target {
            let position = self.running.len();
            let class = self
                .shared
                .exec
                .mix
                .order
                .get(position)
                .copied()
                .unwrap_or(0);
            let stop = CancellationToken::new();
            let spec = user::UserSpec {
                id: self.spawned,
                class,
                stop: stop.clone(),
            };
            self.spawned += 1;
            self.running.push(stop);
            self.tasks.spawn(user::run(self.shared.clone(), spec));
        }
        while self.running.len() > target {
            if let Some(stop) = self.running.pop() {
                stop.cancel();
            }
        }
        // Reap users that have finished, so a long run with ramps does not accumulate them.
        while self.tasks.try_join_next().is_some() {}
        let _ = self.shared.events.send(Event::Users {
            active: self.running.len() as u32,
        });
    }
}
