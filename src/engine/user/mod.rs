//! A virtual user: `on-start` once, then pick a task by weight, run it, think, repeat,
//! until told to stop. Sends a `Sample` per request; never prints or aggregates.

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use reqwest::header::HeaderValue;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::inspect::inspect;
use super::sample::{Event, EventSender, Failure, OnStartEvent, Sample};
use super::transport::{OutgoingRequest, Session, Transport};
use crate::compile::templates::explain;
use crate::compile::{Action, ExecPlan, ON_START_RETRY_MIN, OnStartFailure, RequestId, UserScope};
use crate::compile::{Text, quoted};

/// What every user shares.
pub(super) struct Shared<T: Transport> {
    pub exec: Arc<ExecPlan>,
    pub transport: Arc<T>,
    pub events: EventSender,
    pub run_start: Instant,
    /// Cancelled when in-flight requests must be abandoned (grace over, second Ctrl-C).
    pub hard_stop: CancellationToken,
}

/// One user's identity.
pub(super) struct UserSpec {
    pub id: u64,
    pub class: usize,
    /// Cancelled when this user should stop starting new work.
    pub stop: CancellationToken,
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

pub(super) async fn run<T: Transport>(shared: Arc<Shared<T>>, spec: UserSpec) {
    let exec = &shared.exec;
    let class = &exec.classes[spec.class];
    let mut rng = SmallRng::seed_from_u64(user_seed(exec.seed, spec.id, 1));
    let mut user = User::new(shared.clone(), spec.id, spec.class);
    // No task before `on-start` succeeded: the tasks would act on what it did not produce
    // (a token), each failing for a reason that hides the real one.
    loop {
        if spec.stop.is_cancelled() {
            return;
        }
        let started = Instant::now();
        match user.start().await {
            Started::Ready => break,
            Started::Stop => return,
            // Failed as the run stops: the stop explains it, and no retry will follow.
            Started::Failed if spec.stop.is_cancelled() => return,
            Started::Failed => {
                if !user.count_on_start_failure() {
                    return;
                }
                if class.on_start_failure == OnStartFailure::Stop {
                    user.on_start_event(OnStartEvent::Stopped);
                    return;
                }
                let think = class.think.wait(started.elapsed(), &mut rng);
                let wait = if think.is_zero() {
                    ON_START_RETRY_MIN
                } else {
                    think
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = spec.stop.cancelled() => return,
                }
                if spec.stop.is_cancelled() {
                    return;
                }
                user.on_start_event(OnStartEvent::Retried);
            }
        }
    }
    while !spec.stop.is_cancelled() {
        let task_started = Instant::now();
        let task = &class.tasks[class.picker.pick(&mut rng)];
        for action in &task.actions {
            match user.act(action).await {
                Next::Continue => {}
                Next::EndIteration => break,
                Next::StopUser => return,
            }
        }
        user.next_iteration();
        let wait = class.think.wait(task_started.elapsed(), &mut rng);
        if wait.is_zero() {
            // Without think time a user on a fast target could starve the others, so it
            // spends a unit of tokio's cooperative budget: the task yields once the budget
            // is gone (every 128 units, socket I/O included), not after every task, which
            // cost a trip through the scheduler and an I/O-driver poll per request.
            tokio::task::coop::consume_budget().await;
            continue;
        }
        let due = Instant::now() + wait;
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = spec.stop.cancelled() => break,
        }
        // A busy runtime or machine wakes users late, and they then send less than
        // planned: the honesty check weighs this as it weighs late arrivals.
        let late_us = Instant::now().saturating_duration_since(due).as_micros() as u64;
        let _ = shared.events.send(Event::Timer { late_us });
    }
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
    pub intended: Option<Instant>,
    /// Send no samples: the recovery probe's requests are not part of the load.
    pub quiet: bool,
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
        let since_start =
            |at: Instant| at.saturating_duration_since(shared.run_start).as_micros() as u64;
        let outgoing = match self.prepare(id) {
            Ok(outgoing) => outgoing,
            // The user stops: a data set ran out. Nothing was sent, nothing to record.
            Err(_) if self.scope.must_stop() => return false,
            Err(message) => {
                // A data set that ran out explains the failure better than the template.
                let message = self.scope.take_data_error().unwrap_or(message);
                let now = Instant::now();
                self.record(Sample {
                    metric: spec.metric,
                    started_us: since_start(now),
                    latency_us: 0,
                    queued_us: 0,
                    bytes: 0,
                    failure: Some(Failure::Template(message)),
                    inspected: None,
                });
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
        let latency_us = started.elapsed().as_micros() as u64;
        // A response with a status the plan does not accept still took time: its latency
        // is recorded along with the failure.
        let (bytes, failure, inspected) = match result {
            Ok(response) => {
                let accepted = spec.expect.contains(response.status);
                let findings = inspect(
                    &spec.inspect,
                    &shared.exec.templates,
                    &response,
                    accepted,
                    shared.exec.max_body,
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
            Err(failure) => (0, Some(failure), None),
        };
        let succeeded = failure.is_none();
        self.record(Sample {
            metric: spec.metric,
            started_us: since_start(started),
            latency_us,
            queued_us,
            bytes,
            failure,
            inspected,
        });
        succeeded
    }

    fn record(&self, sample: Sample) {
        if self.quiet {
            return;
        }
        // The recorder outlives every user; a closed channel means the run is being torn
        // down and there is no one left to tell.
        let _ = self.shared.events.send(Event::Sample(sample));
    }

    /// Renders a request's templates into something a transport can send.
    fn prepare(&self, id: RequestId) -> Result<OutgoingRequest, String> {
        let exec = &self.shared.exec;
        let spec = exec.request(id);
        let request = &exec.metric_name(spec.metric).name;
        // An error names the field and the request, and `explain` the variable.
        let failed = |field: &str, text: &Text, scope: &minijinja::Value, e: minijinja::Error| {
            format!(
                "{field} of `{request}`: {}",
                explain(&exec.templates, text, scope, &e)
            )
        };
        let render = |text, field: &str| {
            exec.templates
                .render_text(text, &self.scope_value)
                .map_err(|e| failed(field, text, &self.scope_value, e))
        };
        let mut url = match &spec.url {
            Some(url) => url.clone(),
            None => {
                // Only the path and query come from the rendered text: the scheme, host
                // and port are the plan's, whatever a value says.
                let path = render(&spec.path, "path")?;
                exec.target.url(&path).map_err(|reason| {
                    format!(
                        "the path of `{request}` rendered to `{}`, which {reason}",
                        quoted(&path)
                    )
                })?
            }
        };
        if !spec.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &spec.query {
                pairs.append_pair(name, &render(value, &format!("query `{name}`"))?);
            }
        }
        let body = spec
            .body
            .as_ref()
            .map(|b| render(b, "body").map(|b| b.into_owned()))
            .transpose()?;
        // Headers that sign the body see it as `body`.
        let header_scope = if spec.headers_read_body {
            let body = body.clone().unwrap_or_default();
            minijinja::context! { body => body, ..self.scope_value.clone() }
        } else {
            self.scope_value.clone()
        };
        let mut headers = spec.static_headers.clone();
        for (name, value) in &spec.templated_headers {
            let rendered = exec
                .templates
                .render_text(value, &header_scope)
                .map_err(|e| {
                    failed(
                        &format!("header `{}`", title_case(name)),
                        value,
                        &header_scope,
                        e,
                    )
                })?;
            // A header that renders empty is left out (`{% if token is defined %}…`).
            if rendered.is_empty() {
                continue;
            }
            let value = HeaderValue::from_str(&rendered).map_err(|_| {
                format!("header `{name}` rendered to a value a header cannot carry")
            })?;
            headers.insert(name.clone(), value);
        }
        Ok(OutgoingRequest {
            method: spec.method.clone(),
            url,
            headers,
            body,
            timeout: spec.timeout,
            inspect: spec.inspect.is_needed().then_some(exec.max_body),
        })
    }
}

/// `x-request-id` → `X-Request-Id`: a header name as plans usually write it (the compiled
/// name is lower case).
fn title_case(name: &reqwest::header::HeaderName) -> String {
    name.as_str()
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}
