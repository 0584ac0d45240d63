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

use crate::compile::ExecPlan;

pub use burst::BurstOutcome;
pub use fake::FakeTransport;
pub use inspect::Inspected;
pub use limits::{OpenFileLimit, open_file_limit, open_file_warning, raise_open_file_limit};
pub use preflight::{PreflightError, preflight};
pub use recovery::RecoveryOutcome;
pub use sample::{Event, EventSender, Failure, LocalLimit, OnStartEvent, Sample};
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
    pub duration: Duration,
    /// Stopped by a signal before the schedule ended.
    pub interrupted: bool,
    /// The recovery probe's finding, when the plan has one and the load ran to its end.
    pub recovery: Option<RecoveryOutcome>,
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
        shared: shared.clone(),
        running: Vec::new(),
        tasks: JoinSet::new(),
        spawned: 0,
    };
    let load_over = CancellationToken::new();
    let mut first_user = 0;
    for burst in &exec.bursts {
        let release = burst::release(shared.clone(), burst.clone(), first_user, load_over.clone());
        users.tasks.spawn(release);
        first_user += u64::from(burst.size);
    }

    // Either signal ends the load (dropping `drive` mid-schedule); only a person's
    // signal makes the run "interrupted".
    let mut interrupted = tokio::select! {
        biased;
        _ = stop.graceful.cancelled() => true,
        _ = stop.abort.cancelled() => false,
        () = drive(&exec, &mut users) => false,
    };
    load_over.cancel();

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
    let duration = run_start.elapsed();
    let recovery = match &exec.recovery {
        Some(probe) if !interrupted && !stop.abort.is_cancelled() => {
            // The load's hard stop may have fired at the end of its grace period; the
            // probe's requests are abandoned only by a second Ctrl-C.
            let probe_shared = Arc::new(user::Shared {
                exec: exec.clone(),
                transport: shared.transport.clone(),
                events: shared.events.clone(),
                run_start,
                hard_stop: stop.immediate.clone(),
            });
            let end = Instant::now();
            Some(recovery::probe(probe_shared, probe, end, &stop.graceful).await)
        }
        _ => None,
    };
    EngineOutcome {
        duration,
        interrupted,
        recovery,
    }
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
