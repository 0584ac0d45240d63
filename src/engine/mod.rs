//! Engine: `ExecPlan` → `Sample`s. Starts and stops virtual users at the instants the
//! `LoadSchedule` names, then stops gracefully: users finish what is in flight within
//! the grace period, after which anything still running is cancelled and counted.
//!
//! With an `ArrivalPlan` (open model) it dispatches arrivals instead of running users;
//! bursts are released at their instants in either model, and the recovery probe runs
//! once the load has drained.
//!
//! The engine never sees a plan file; it reads only the compiled graph.

mod arrivals;
mod burst;
mod fake;
mod inspect;
mod limits;
mod preflight;
mod recovery;
mod sample;
mod threads;
mod transport;
mod user;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::compile::{ExecPlan, RecoveryProbe};

pub use burst::BurstOutcome;
pub use fake::FakeTransport;
pub use inspect::Inspected;
pub use limits::{OpenFileLimit, open_file_limit, open_file_warning, raise_open_file_limit};
pub use preflight::{PreflightError, preflight};
pub use recovery::RecoveryOutcome;
pub use sample::{Event, EventSender, Failure, LocalLimit, OnStartEvent, Sample, TlsFailure};
pub use threads::{ONE_THREAD_UP_TO, offered_rate, worker_threads};
pub use transport::{HttpSession, HttpTransport, OutgoingRequest, Response, Session, Transport};

/// How a run is told to stop early: `graceful` (first Ctrl-C, SIGTERM) ends the load and
/// lets in-flight requests finish within the grace period; `immediate` (second Ctrl-C)
/// abandons them at once. `abort` (a breached `abort` SLO) ends the load like
/// `graceful`, but is not an interruption.
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    pub graceful: CancellationToken,
    pub immediate: CancellationToken,
    pub abort: CancellationToken,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOutcome {
    /// From the start to the last response of the load (or cancellation); the recovery
    /// probe comes after.
    pub(crate) duration: Duration,
    /// Stopped by a signal before the schedule ended.
    pub(crate) interrupted: bool,
    /// The recovery probe's finding, when the plan has one and the load ran to its end.
    pub(crate) recovery: Option<RecoveryOutcome>,
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
    let shared = Arc::new(user::Shared {
        exec: exec.clone(),
        transport,
        events,
        run_start,
        hard_stop: CancellationToken::new(),
    });
    let mut users = Users {
        shared: shared.clone(),
        running: Vec::new(),
        tasks: JoinSet::new(),
        spawned: 0,
    };
    let load_over = CancellationToken::new();
    users.release_bursts(&load_over);

    // Either signal ends the load (dropping `drive` mid-schedule); only a person's
    // signal makes the run "interrupted".
    let mut interrupted = tokio::select! {
        biased;
        _ = stop.graceful.cancelled() => true,
        _ = stop.abort.cancelled() => false,
        () = drive(&exec, &mut users) => false,
    };
    load_over.cancel();
    interrupted |= users.stop_all(&stop.immediate).await;
    let duration = run_start.elapsed();
    let recovery = match &exec.recovery {
        Some(probe) if !interrupted && !stop.abort.is_cancelled() => {
            Some(probe_recovery(&shared, probe, &stop).await)
        }
        _ => None,
    };
    EngineOutcome {
        duration,
        interrupted,
        recovery,
    }
}

/// Runs the recovery `probe` once the load has drained, on the load's transport; gives
/// what it found. `stop.graceful` ends it early.
async fn probe_recovery<T: Transport>(
    load: &user::Shared<T>,
    probe: &RecoveryProbe,
    stop: &StopSignal,
) -> RecoveryOutcome {
    // The load's hard stop may have fired at the end of its grace period; the probe's
    // requests are abandoned only by a second Ctrl-C.
    let shared = Arc::new(user::Shared {
        exec: load.exec.clone(),
        transport: load.transport.clone(),
        events: load.events.clone(),
        run_start: load.run_start,
        hard_stop: stop.immediate.clone(),
    });
    let end = Instant::now();
    recovery::probe(shared, probe, end, &stop.graceful).await
}

/// Runs the load's schedule to its end: users for a closed model, arrivals for an open
/// one. The caller stops it early by dropping it.
async fn drive<T: Transport>(exec: &ExecPlan, users: &mut Users<T>) {
    let run_start = users.shared.run_start;
    match &exec.arrivals {
        Some(plan) => {
            let shared = users.shared.clone();
            arrivals::dispatch(&shared, plan, &mut users.tasks).await;
        }
        None => {
            for (at, target) in exec.schedule.changes() {
                tokio::time::sleep_until(run_start + at).await;
                users.set_count(target as usize);
            }
        }
    }
    tokio::time::sleep_until(run_start + exec.schedule.total).await;
}

/// The users of a run: the running ones in start order, and every task to join.
struct Users<T: Transport> {
    shared: Arc<user::Shared<T>>,
    running: Vec<CancellationToken>,
    tasks: JoinSet<()>,
    spawned: u64,
}

impl<T: Transport> Users<T> {
    /// Spawns a task per burst of the plan, which releases it at its instant unless
    /// `load_over` fires first. Burst users are numbered apart from the others.
    fn release_bursts(&mut self, load_over: &CancellationToken) {
        let mut first_user = 0;
        for burst in &self.shared.exec.bursts {
            let shared = self.shared.clone();
            let release = burst::release(shared, burst.clone(), first_user, load_over.clone());
            self.tasks.spawn(release);
            first_user += u64::from(burst.size);
        }
    }

    /// Stops every user and waits for every task. What is in flight may finish within the
    /// grace period; then, or at once if `immediate` fires, the hard stop abandons it.
    /// Gives whether `immediate` fired.
    async fn stop_all(&mut self, immediate: &CancellationToken) -> bool {
        self.set_count(0);
        let hard_stop = self.shared.hard_stop.clone();
        let grace = tokio::time::sleep(self.shared.exec.schedule.graceful_stop);
        tokio::pin!(grace);
        let mut interrupted = false;
        loop {
            tokio::select! {
                next = self.tasks.join_next() => if next.is_none() { break },
                _ = &mut grace, if !hard_stop.is_cancelled() => hard_stop.cancel(),
                _ = immediate.cancelled(), if !hard_stop.is_cancelled() => {
                    interrupted = true;
                    hard_stop.cancel();
                }
            }
        }
        interrupted
    }

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
