//! A virtual user: `on-start` once, then pick a task by weight, run it, think, repeat,
//! until told to stop. Sends a `Sample` per request; never prints or aggregates.

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use reqwest::header::HeaderValue;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::inspect::inspect;
use super::transport::{OutgoingRequest, Session, Transport};
use crate::compile::quoted;
use crate::compile::templates::describe;
use crate::compile::{Action, ExecPlan, RequestId, UserScope};
use crate::metrics::{Event, EventSender, Failure, Sample};

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
    for action in &class.on_start {
        if spec.stop.is_cancelled() {
            return;
        }
        match user.act(action).await {
            Next::Continue => {}
            Next::EndIteration => break,
            Next::StopUser => return,
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
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = spec.stop.cancelled() => break,
        }
    }
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
        }
    }

    /// Runs the class's `on-start` steps, up to the first that fails.
    pub(super) async fn start(&mut self) {
        let shared = self.shared.clone();
        for action in &shared.exec.classes[self.class].on_start {
            if self.act(action).await != Next::Continue {
                break;
            }
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
        let render = |text| {
            exec.templates
                .render_text(text, &self.scope_value)
                .map_err(|e| describe(&e))
        };
        let mut url = match &spec.url {
            Some(url) => url.clone(),
            None => {
                // Only the path and query come from the rendered text: the scheme, host
                // and port are the plan's, whatever a value says.
                let path = render(&spec.path)?;
                exec.target.url(&path).map_err(|reason| {
                    let name = &exec.metric_name(spec.metric).name;
                    format!(
                        "the path of `{name}` rendered to `{}`, which {reason}",
                        quoted(&path)
                    )
                })?
            }
        };
        if !spec.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &spec.query {
                pairs.append_pair(name, &render(value)?);
            }
        }
        let body = spec
            .body
            .as_ref()
            .map(|b| render(b).map(|b| b.into_owned()))
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
                .map_err(|e| describe(&e))?;
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
