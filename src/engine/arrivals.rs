//! Open-model dispatch: arrivals at the instants the `ArrivalPlan` gives, each running
//! one task, whatever the target's latency.
//!
//! User context: arrivals borrow users (connection, cookie jar, variables set by
//! `on-start`) from a pool per class, created on first need and reused afterwards, so a
//! plan's templates and cookies work as in closed-model runs. At most `sessions` users
//! are busy at once; an arrival finding none free waits for one, and that wait counts in
//! its corrected latency. At most `max-in-flight` arrivals run or wait at once; an
//! arrival beyond that is dropped and counted, never silently skipped. So is an arrival
//! the dispatcher reaches more than `MAX_LATENESS` after its instant, and every arrival
//! not sent when the load ends: the run ends on time whatever the rate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::sample::{Event, Failure, Sample};
use super::transport::Transport;
use super::user::{Next, Shared, User, user_seed};
use crate::compile::WeightTable;
use crate::compile::{Action, ArrivalPlan, ArrivalStream, Arrivals, ExecPlan, Spacing, TaskPick};

/// Idle users by class, and the limits on busy ones.
struct Pool<T: Transport> {
    idle: Mutex<Vec<Vec<User<T>>>>,
    in_flight: Arc<Semaphore>,
    max_in_flight: u32,
    sessions: Arc<Semaphore>,
    next_id: AtomicU64,
}

impl<T: Transport> Pool<T> {
    /// An empty pool for `classes` classes, with the plan's limits.
    fn new(classes: usize, plan: &ArrivalPlan) -> Self {
        Self {
            idle: Mutex::new((0..classes).map(|_| Vec::new()).collect()),
            in_flight: Arc::new(Semaphore::new(plan.max_in_flight as usize)),
            max_in_flight: plan.max_in_flight,
            sessions: Arc::new(Semaphore::new(plan.sessions as usize)),
            next_id: AtomicU64::new(0),
        }
    }

    fn take(&self, class: usize) -> Option<User<T>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())[class].pop()
    }

    fn put(&self, class: usize, user: User<T>) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())[class].push(user);
    }

    fn in_flight(&self) -> u32 {
        self.max_in_flight - self.in_flight.available_permits() as u32
    }
}

/// One stream's arrivals as they are dispatched.
struct Stream<'p> {
    arrivals: Arrivals<'p>,
    /// When its next arrival is due, from the run's start; `None` once it has no more.
    next: Option<Duration>,
    /// What its arrivals run.
    pick: TaskPick,
}

impl<'p> Stream<'p> {
    /// Starts `stream`'s arrivals, spaced as `spacing` says.
    fn new(stream: &'p ArrivalStream, spacing: Spacing, rng: &mut SmallRng) -> Self {
        let mut arrivals = Arrivals::new(&stream.curve, spacing, rng);
        let next = arrivals.next_instant(rng);
        Self {
            arrivals,
            next,
            pick: stream.pick,
        }
    }

    /// Moves on from the next arrival, which is being sent.
    fn advance(&mut self, rng: &mut SmallRng) {
        self.next = self.arrivals.next_instant(rng);
    }

    /// Drops the next arrival and every later one due before `until` (from the run's
    /// start); gives how many it dropped.
    fn skip_to(&mut self, until: Duration, rng: &mut SmallRng) -> u64 {
        let skipped = 1 + self.arrivals.skip_to(until, rng);
        self.advance(rng);
        skipped
    }

    /// How many arrivals are still to be sent, the next one included.
    fn left(&self) -> u64 {
        u64::from(self.next.is_some()) + self.arrivals.remaining()
    }
}

/// The stream whose arrival is due first, and when (from the run's start); `None` once
/// every stream has ended.
fn next_due(streams: &[Stream]) -> Option<(usize, Duration)> {
    streams
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.next.map(|at| (i, at)))
        .min_by_key(|(_, at)| *at)
}

/// Dispatches every arrival of the plan (the caller stops it early by dropping it).
/// Arrival tasks are spawned into `tasks`, for the caller to drain.
pub(super) async fn dispatch<T: Transport>(
    shared: &Arc<Shared<T>>,
    plan: &ArrivalPlan,
    tasks: &mut JoinSet<()>,
) {
    let exec = &shared.exec;
    let mut rng = SmallRng::seed_from_u64(user_seed(exec.seed, u64::MAX, 3));
    let mix = WeightTable::new(exec.classes.iter().map(|c| c.weight).collect());
    let pool = Arc::new(Pool::<T>::new(exec.classes.len(), plan));
    let mut streams: Vec<_> = plan
        .streams
        .iter()
        .map(|stream| Stream::new(stream, plan.spacing, &mut rng))
        .collect();
    let load_end = shared.run_start + exec.schedule.total;
    while let Some((index, at)) = next_due(&streams) {
        let due = shared.run_start + at;
        let now = Instant::now();
        if now >= load_end + END_SLACK {
            // The load is over: what was not sent by now never will be.
            let left: u64 = streams.iter().map(Stream::left).sum();
            let _ = shared.events.send(Event::ArrivalsDropped { count: left });
            return;
        }
        let stream = &mut streams[index];
        if now.saturating_duration_since(due) > MAX_LATENESS {
            // Behind by more than is still on time: drop this arrival and every one of
            // this stream due before `now - MAX_LATENESS` at once, instead of working
            // through a backlog that would outlast the run.
            let until = (now - MAX_LATENESS).saturating_duration_since(shared.run_start);
            let skipped = stream.skip_to(until, &mut rng);
            let _ = shared
                .events
                .send(Event::ArrivalsDropped { count: skipped });
            continue;
        }
        stream.advance(&mut rng);
        let pick = stream.pick;
        sleep_until_about(due).await;
        let lag_us = Instant::now().saturating_duration_since(due).as_micros() as u64;
        let task = pick_task(pick, mix.as_ref(), exec, &mut rng);
        admit(shared, &pool, tasks, task, due, lag_us);
        // Reap finished arrivals, so a long run does not accumulate them.
        while tasks.try_join_next().is_some() {}
    }
}

/// The class and task an arrival of a stream with `pick` runs: those it names, or a class
/// drawn from `mix` and one of its tasks by their weights.
fn pick_task(
    pick: TaskPick,
    mix: Option<&WeightTable>,
    exec: &ExecPlan,
    rng: &mut SmallRng,
) -> (usize, usize) {
    match pick {
        TaskPick::Task { class, task } => (class, task),
        TaskPick::Mix => {
            let class = mix.map_or(0, |m| m.pick(rng));
            (class, exec.classes[class].picker.pick(rng))
        }
    }
}

/// Admits an arrival of `(class, task)` due at `due` and dispatched `lag_us` after it:
/// spawns it into `tasks` unless `max-in-flight` arrivals already run, in which case it
/// is dropped. Counts it either way.
fn admit<T: Transport>(
    shared: &Arc<Shared<T>>,
    pool: &Arc<Pool<T>>,
    tasks: &mut JoinSet<()>,
    task: (usize, usize),
    due: Instant,
    lag_us: u64,
) {
    let permit = pool.in_flight.clone().try_acquire_owned().ok();
    let dropped = permit.is_none();
    let _ = shared.events.send(Event::Arrival { lag_us, dropped });
    if let Some(permit) = permit {
        let _ = shared.events.send(Event::Users {
            active: pool.in_flight(),
        });
        // Boxed: an arrival's future holds a whole request's state machine, and
        // spawning moves it three times (into the task, into its cell, out as the
        // output's stage); moved as a box, only a pointer is copied.
        let arrival = run_arrival(shared.clone(), pool.clone(), permit, task, due);
        tasks.spawn(Box::pin(arrival));
    }
}

/// How late an arrival may still be sent. A later one is dropped and counted: sent, it
/// would measure planrun's backlog more than the target (its latency counts from when
/// it was due), and working through a backlog would outlast the run. A second absorbs a
/// stall of the machine; a dispatcher that cannot keep up at all drops what it cannot
/// send and the run still ends on time.
const MAX_LATENESS: Duration = Duration::from_secs(1);

/// How long after the load's end the dispatcher still sends what was due before it: the
/// last arrivals of a run that kept up are a timer tick or so late, not dropped.
const END_SLACK: Duration = Duration::from_millis(10);

/// tokio's timer fires on whole milliseconds, never before the deadline: sleeping until
/// `due` wakes up to two ticks after it, a lateness every open-model latency would carry
/// (a median 1.3 ms on a target answering in 0.07 ms). So the dispatcher sleeps until a
/// tick before `due`, which wakes it within about a tick of `due`, either side, and sends
/// at once unless still more than half a tick early. An arrival sent early is not given
/// a shorter latency: its latency counts from when it was sent, never from before.
const TIMER_TICK: Duration = Duration::from_millis(1);

async fn sleep_until_about(due: Instant) {
    tokio::time::sleep_until(due.checked_sub(TIMER_TICK).unwrap_or(due)).await;
    if due.saturating_duration_since(Instant::now()) > TIMER_TICK / 2 {
        tokio::time::sleep_until(due).await;
    }
}

/// One arrival: wait for a free user of its class, run the task, give the user back.
async fn run_arrival<T: Transport>(
    shared: Arc<Shared<T>>,
    pool: Arc<Pool<T>>,
    in_flight: OwnedSemaphorePermit,
    (class, task): (usize, usize),
    due: Instant,
) {
    let task = &shared.exec.classes[class].tasks[task];
    let session = tokio::select! {
        permit = pool.sessions.clone().acquire_owned() => permit.ok(),
        _ = shared.hard_stop.cancelled() => None,
    };
    let Some(session) = session else {
        abandoned(&shared, task, due);
        return;
    };
    let mut user = match pool.take(class) {
        Some(user) => user,
        None => {
            let id = pool.next_id.fetch_add(1, Ordering::Relaxed);
            User::new(shared.clone(), id, class)
        }
    };
    // No task before the user's `on-start` succeeded (see `User::ensure_started`).
    let ready = user.ensure_started().await;
    user.intended = Some(due);
    for action in task.actions.iter().filter(|_| ready) {
        if user.act(action).await != Next::Continue {
            break;
        }
    }
    user.intended = None;
    user.next_iteration();
    pool.put(class, user);
    drop(session);
    drop(in_flight);
    let _ = shared.events.send(Event::Users {
        active: pool.in_flight(),
    });
}

/// An arrival still waiting for a user when the grace period ran out: it is counted as a
/// cancelled request that waited all that time.
fn abandoned<T: Transport>(shared: &Shared<T>, task: &crate::compile::Task, due: Instant) {
    let first = task.actions.iter().find_map(|a| match a {
        Action::Request(id) => Some(*id),
        Action::Set(_) | Action::Pause(_) => None,
    });
    if let Some(id) = first {
        let now = Instant::now();
        let _ = shared.events.send(Event::Sample(Sample {
            name: shared.exec.request(id).name,
            started_us: now.saturating_duration_since(shared.run_start).as_micros() as u64,
            service_us: 0,
            queued_us: now.saturating_duration_since(due).as_micros() as u64,
            bytes: 0,
            failure: Some(Failure::Cancelled),
            inspected: None,
        }));
    }
}
