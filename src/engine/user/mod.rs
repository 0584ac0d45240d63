//! A virtual user: `on-start` once, then pick a task by weight, run it, think, repeat,
//! until told to stop. Sends a `Sample` per request; never prints or aggregates.

mod render;

use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::inspect::{Inspected, inspect};
use super::sample::{Event, EventSender, Failure, OnStartEvent, Sample};
use super::transport::{Response, Session, Transport};
use crate::compile::{Action, ExecPlan, ON_START_RETRY_MIN, OnStartFailure, RequestId, UserScope};
use crate::compile::{RequestNameId, RequestSpec, UserClass};

/// What every user shares.
pub(super) struct Shared<T: Transport> {
    pub(crate) exec: Arc<ExecPlan>,
    pub(crate) transport: Arc<T>,
    pub(crate) events: EventSender,
    pub(crate) run_start: Instant,
    /// Cancelled when in-flight requests must be abandoned (grace over, second Ctrl-C).
    pub(crate) hard_stop: CancellationToken,
}

impl<T: Transport> Shared<T> {
    /// `at` as a sample time: microseconds from the run's start.
    fn since_start(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.run_start).as_micros() as u64
    }
}

/// One user's identity.
pub(super) struct UserSpec {
    pub(crate) id: u64,
    pub(crate) class: usize,
    /// Cancelled when this user should stop starting new work.
    pub(crate) stop: CancellationToken,
}

/// Derives a user's seed from the run's: SplitMix64, so neighbouring ids diverge fully.
pub(super) fn user_seed(run_seed: u64, user_id: u64, stream: u64) -> u64 {
    let mut z = run_seed
        ^ user_id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs a closed-model user: `on-start`, then tasks until `spec.stop` fires.
pub(super) async fn run<T: Transport>(shared: Arc<Shared<T>>, spec: UserSpec) {
    let class = &shared.exec.classes[spec.class];
    let mut rng = SmallRng::seed_from_u64(user_seed(shared.exec.seed, spec.id, 1));
    let mut user = User::new(shared.clone(), spec.id, spec.class);
    // No task before `on-start` succeeded: the tasks would act on what it did not produce
    // (a token), each failing for a reason that hides the real one.
    if start_until_ready(&mut user, class, &spec.stop, &mut rng).await {
        run_tasks(&mut user, class, &spec.stop, &mut rng).await;
    }
}

/// Runs `on-start` until it succeeds, waiting the class's think time between attempts
/// unless its `on-start-failure` says to stop. Gives whether the user may run tasks:
/// not once `stop` fires, a data set stops it, or it gives up.
async fn start_until_ready<T: Transport>(
    user: &mut User<T>,
    class: &UserClass,
    stop: &CancellationToken,
    rng: &mut SmallRng,
) -> bool {
    loop {
        if stop.is_cancelled() {
            return false;
        }
        let started = Instant::now();
        match user.start().await {
            Started::Ready => return true,
            Started::Stop => return false,
            // Failed as the run stops: the stop explains it, and no retry will follow.
            Started::Failed if stop.is_cancelled() => return false,
            Started::Failed => {
                if !user.count_on_start_failure() {
                    return false;
                }
                if class.on_start_failure == OnStartFailure::Stop {
                    user.on_start_event(OnStartEvent::Stopped);
                    return false;
                }
                let think = class.think.wait(started.elapsed(), rng);
                let wait = if think.is_zero() {
                    ON_START_RETRY_MIN
                } else {
                    think
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.cancelled() => return false,
                }
                if stop.is_cancelled() {
                    return false;
                }
                user.on_start_event(OnStartEvent::Retried);
            }
        }
    }
}

/// Runs tasks picked by weight, each followed by the class's think time, until `stop`
/// fires or a step stops the user.
async fn run_tasks<T: Transport>(
    user: &mut User<T>,
    class: &UserClass,
    stop: &CancellationToken,
    rng: &mut SmallRng,
) {
    while !stop.is_cancelled() {
        let task_started = Instant::now();
        let task = &class.tasks[class.picker.pick(rng)];
        for action in &task.actions {
            match user.act(action).await {
                Next::Continue => {}
                Next::EndIteration => break,
                Next::StopUser => return,
            }
        }
        user.next_iteration();
        let wait = class.think.wait(task_started.elapsed(), rng);
        if wait.is_zero() {
            // Without think time a user on a fast target could starve the others, so it
            // spends a unit of tokio's cooperative budget: the task yields once the budget
            // is gone (every 128 units, socket I/O included), not after every task, which
            // cost a trip through the scheduler and an I/O-driver poll per request.
            tokio::task::coop::consume_budget().await;
            continue;
        }
        if !think(wait, stop, &user.shared.events).await {
            return;
        }
    }
}

/// Sleeps for `wait`, and reports on `events` how late the timer woke. Gives `false`,
/// at once, if `stop` fires first.
async fn think(wait: Duration, stop: &CancellationToken, events: &EventSender) -> bool {
    let due = Instant::now() + wait;
    tokio::select! {
        _ = tokio::time::sleep_until(due) => {}
        _ = stop.cancelled() => return false,
    }
    // A busy runtime or machine wakes users late, and they then send less than
    // planned: the honesty check weighs this as it weighs late arrivals.
    let late_us = Instant::now().saturating_duration_since(due).as_micros() as u64;
    let _ = events.send(Event::Timer { late_us });
    true
}

/// How a user's `on-start` went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Started {
    Ready,
    /// A step failed: the user must not run its tasks.
    Failed,
    /// A data set told the user to stop.
    Stop,
}

/// What a user does after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    Continue,
    /// A request failed: the rest of the flow would act on what it did not produce.
    EndIteration,
    /// A `unique` data set ran out with `on-exhausted: stop`.
    StopUser,
}

/// A user's state: its connection, cookies and variables. Closed-model users own one
/// for their whole life; open-model arrivals borrow one from a pool.
pub(super) struct User<T: Transport> {
    shared: Arc<Shared<T>>,
    session: T::Session,
    scope: Arc<UserScope>,
    scope_value: minijinja::Value,
    class: usize,
    /// When the schedule wanted the next request sent (open model), so its latency can
    /// count from then; taken by that request.
    pub(crate) intended: Option<Instant>,
    /// Send no samples: the recovery probe's requests are not part of the load.
    pub(crate) quiet: bool,
    /// `on-start` succeeded.
    ready: bool,
    /// `on-start` failed at least once (the user is counted once).
    start_failed: bool,
}

impl<T: Transport> User<T> {
    pub(super) fn new(shared: Arc<Shared<T>>, id: u64, class: usize) -> Self {
        let exec = &shared.exec;
        let scope = UserScope::new(
            id,
            &exec.classes[class].name,
            exec.globals.clone(),
            user_seed(exec.seed, id, 2),
        );
        Self {
            session: shared.transport.session(),
            scope_value: scope.value(),
            scope,
            shared,
            class,
            intended: None,
            quiet: false,
            ready: false,
            start_failed: false,
        }
    }

    /// Runs the class's `on-start` steps, up to the first that fails.
    pub(super) async fn start(&mut self) -> Started {
        let shared = self.shared.clone();
        for action in &shared.exec.classes[self.class].on_start {
            match self.act(action).await {
                Next::Continue => {}
                Next::EndIteration => return Started::Failed,
                Next::StopUser => return Started::Stop,
            }
        }
        self.ready = true;
        Started::Ready
    }

    /// Open model: runs `on-start` unless it already succeeded for this user, and says
    /// whether the user may run a task. A failure is counted; the user's next arrival
    /// runs `on-start` again.
    pub(super) async fn ensure_started(&mut self) -> bool {
        if self.ready {
            return true;
        }
        if self.start_failed {
            self.on_start_event(OnStartEvent::Retried);
        }
        match self.start().await {
            Started::Ready => true,
            Started::Failed => {
                self.count_on_start_failure();
                false
            }
            Started::Stop => false,
        }
    }

    /// Counts a failed `on-start`, unless the run is stopping, which explains the failure
    /// better; returns whether it was counted.
    pub(super) fn count_on_start_failure(&mut self) -> bool {
        if self.shared.hard_stop.is_cancelled() {
            return false;
        }
        let first = !self.start_failed;
        self.start_failed = true;
        self.on_start_event(OnStartEvent::Failed { first });
        true
    }

    fn on_start_event(&self, event: OnStartEvent) {
        if !self.quiet {
            let _ = self.shared.events.send(Event::OnStart(event));
        }
    }

    /// Starts a new iteration of the user's variables (after a task).
    pub(super) fn next_iteration(&self) {
        self.scope.next_iteration();
    }

    /// Takes one step of a flow.
    pub(super) async fn act(&mut self, action: &Action) -> Next {
        match action {
            Action::Request(id) => {
                let spec = self.shared.exec.request(*id);
                if let Some(when) = spec.when {
                    if !self.shared.exec.templates.holds(when, &self.scope_value) {
                        return Next::Continue;
                    }
                }
                if self.request(*id).await {
                    Next::Continue
                } else if self.scope.must_stop() {
                    Next::StopUser
                } else {
                    Next::EndIteration
                }
            }
            Action::Set(assignments) => {
                // The dry render at compile time makes a failure here rare; if one
                // happens, the variables from the failing one on keep their previous
                // values and the next request that needs them reports the error.
                let templates = &self.shared.exec.templates;
                let _ = templates.assign(assignments, &self.scope, &self.scope_value);
                if self.scope.must_stop() {
                    Next::StopUser
                } else {
                    Next::Continue
                }
            }
            Action::Pause(pause) => {
                tokio::select! {
                    _ = tokio::time::sleep(*pause) => Next::Continue,
                    _ = self.shared.hard_stop.cancelled() => Next::EndIteration,
                }
            }
        }
    }

    /// Sends one request and records its sample (with what its inspection found);
    /// returns whether it succeeded.
    pub(super) async fn request(&mut self, id: RequestId) -> bool {
        let shared = self.shared.clone();
        let spec = shared.exec.request(id);
        let intended = self.intended.take();
        let outgoing = match self.prepare(id) {
            Ok(outgoing) => outgoing,
            // The user stops: a data set ran out. Nothing was sent, nothing to record.
            Err(_) if self.scope.must_stop() => return false,
            Err(message) => {
                self.record_unrendered(spec.name, message);
                return false;
            }
        };
        let started = Instant::now();
        // Waiting for a free session (or a late scheduler) is part of what a user arriving
        // at `intended` experiences: it is latency, even though no byte was on the wire.
        let queued_us = intended.map_or(0, |at| {
            started.saturating_duration_since(at).as_micros() as u64
        });
        let result = tokio::select! {
            biased;
            _ = shared.hard_stop.cancelled() => Err(Failure::Cancelled),
            result = self.session.send(outgoing) => result,
        };
        let service_us = started.elapsed().as_micros() as u64;
        // A response with a status the plan does not accept still took time: its time is
        // recorded along with the failure.
        let (bytes, failure, inspected) = match result {
            Ok(response) => self.judge(spec, &response),
            Err(failure) => (0, Some(failure), None),
        };
        let succeeded = failure.is_none();
        self.record(Sample {
            name: spec.name,
            started_us: shared.since_start(started),
            service_us,
            queued_us,
            bytes,
            failure,
            inspected,
        });
        succeeded
    }

    /// Judges the `response` to `spec` and sets the user variables it extracted. Gives
    /// its size, why the request failed if it did, and what its inspection found.
    fn judge(
        &self,
        spec: &RequestSpec,
        response: &Response,
    ) -> (u64, Option<Failure>, Option<Box<Inspected>>) {
        let exec = &self.shared.exec;
        let accepted = spec.expect.contains(response.status);
        let findings = inspect(
            &spec.inspect,
            &exec.templates,
            response,
            accepted,
            exec.max_body,
        );
        for (name, value) in findings.variables {
            self.scope.set(&name, value);
        }
        let failure = if accepted {
            findings.failure
        } else {
            Some(Failure::UnexpectedStatus(response.status))
        };
        (response.bytes, failure, findings.inspected)
    }

    /// Records a request of `metric` that was never sent: its templates failed to render,
    /// as `message` says.
    fn record_unrendered(&self, metric: RequestNameId, message: String) {
        // A data set that ran out explains the failure better than the template.
        let message = self.scope.take_data_error().unwrap_or(message);
        self.record(Sample {
            name: metric,
            started_us: self.shared.since_start(Instant::now()),
            service_us: 0,
            queued_us: 0,
            bytes: 0,
            failure: Some(Failure::Template(message)),
            inspected: None,
        });
    }

    fn record(&self, sample: Sample) {
        if self.quiet {
            return;
        }
        // The recorder outlives every user; a closed channel means the run is being torn
        // down and there is no one left to tell.
        let _ = self.shared.events.send(Event::Sample(sample));
    }
}
