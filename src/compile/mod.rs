//! Compile: `LoadedPlan` → `ExecPlan`, the executor graph.
//!
//! Templates are compiled once, weights resolved into pick tables, users apportioned,
//! stages turned into a schedule and SLOs bound to request names. Errors are collected,
//! not returned at the first one, and every template is checked (undefined variables,
//! unknown functions, a dry render per class) before any request is sent.

mod arrival_plan;
mod business;
mod checks;
mod data;
pub mod estimate;
mod graph;
pub mod inspect;
mod load;
mod open_load;
mod preflight;
mod probes;
mod redact;
mod requests;
mod schedule;
pub mod secrets;
pub mod slo;
mod target;
pub mod templates;
mod think;
mod weights;

use std::time::Duration;

use indexmap::IndexMap;

use crate::plan::raw::Scalar;
use crate::plan::{FlagEdit, KeyPath, LoadedPlan, Part, PlanErrorKind, PlanErrors};
use crate::units::{ByteSize, Rate, format_duration, parse_duration, suggest_duration};
use slo::SloMetric;

pub use arrival_plan::{
    ArrivalPlan, ArrivalStream, Arrivals, RateCurve, Segment, Spacing, TaskPick,
};
pub use business::{BusinessId, BusinessKind, BusinessMetric};
pub use graph::{
    Action, ExecPlan, MetricId, MetricName, ON_START_RETRY_MIN, OnStartFailure, RequestId,
    RequestSpec, Task, UserClass,
};
pub use inspect::{CheckId, Inspection, InspectionName, OutcomeId};
pub use preflight::{Preflight, PreflightOrigin};
pub use probes::{Burst, RecoveryProbe};
pub(crate) use redact::{REDACTED, is_credential_header};
pub use schedule::{LoadSchedule, Stage};
pub use secrets::Secrets;
pub use target::Target;
pub(crate) use target::quoted;
pub use templates::{Globals, Templates, Text, UserScope};
pub use think::ThinkTime;
pub use weights::{UserMix, WeightTable, apportion};

/// Values from the command line that override the plan's. `host`, `users`, `spawn_rate`,
/// `run_time` and `seed` edit the plan's tree (`Overrides::edits`) before it compiles,
/// so the plan's own limits judge them and the plan as run shows them.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--host`, `PLANRUN_HOST`, or the in-process sample API's address.
    pub host: Option<String>,
    /// Where `host` came from, as errors name it: `--host` when `None`, `PLANRUN_HOST`,
    /// `--sample-api`.
    pub host_from: Option<String>,
    /// `-u/--users`: replaces the plan's stages with a ramp to this many users.
    pub users: Option<u32>,
    /// `-r/--spawn-rate`.
    pub spawn_rate: Option<Rate>,
    /// `-t/--run-time`.
    pub run_time: Option<Duration>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// Values for environment variables that are not set (`--sample-api` supplies its
    /// webhook secrets this way).
    pub env_defaults: Vec<(String, String)>,
    /// `check`: an unset environment variable is noted in `ExecPlan::unset_env` rather
    /// than an error (a plan is checked in CI without its secrets).
    pub lenient_env: bool,
    /// The command line that ran the plan, recorded in the reports so a run can be
    /// repeated (secrets are scrubbed from it like from everything else).
    pub command: Option<String>,
}

/// What `-u` replaces: an arrival-rate or staged load becomes a ramp and a hold.
const REPLACED_BY_USERS: [&str; 5] = ["stages", "rate", "arrivals", "max-in-flight", "sessions"];

impl Overrides {
    /// The flags as edits of the plan's tree, in the order they apply.
    pub fn edits(&self) -> Vec<FlagEdit> {
        let load = KeyPath::root().key("load");
        let edit = |flag: &str, path: KeyPath, value: serde_json::Value| FlagEdit {
            flag: flag.to_owned(),
            path,
            value,
            removes: Vec::new(),
        };
        let mut edits = Vec::new();
        if let Some(host) = &self.host {
            let flag = self.host_from.as_deref().unwrap_or("--host");
            edits.push(edit(
                flag,
                KeyPath::root().key("host"),
                host.as_str().into(),
            ));
        }
        if let Some(users) = self.users {
            edits.push(FlagEdit {
                removes: REPLACED_BY_USERS.iter().map(|k| load.key(*k)).collect(),
                ..edit("--users", load.key("users"), users.into())
            });
        }
        if let Some(rate) = self.spawn_rate {
            edits.push(edit(
                "--spawn-rate",
                load.key("spawn-rate"),
                rate.to_string().into(),
            ));
        }
        if let Some(run_time) = self.run_time {
            edits.push(edit(
                "--run-time",
                load.key("run-time"),
                format_duration(run_time).into(),
            ));
        }
        if let Some(seed) = self.seed {
            edits.push(edit("--seed", KeyPath::root().key("seed"), seed.into()));
        }
        edits
    }

    /// What is left once `edits` are in the plan.
    fn applied(&self) -> Self {
        Self {
            host: None,
            users: None,
            spawn_rate: None,
            run_time: None,
            seed: None,
            ..self.clone()
        }
    }

    /// The value of environment variable `name`: set, else its `env_defaults` entry.
    pub fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().or_else(|| {
            self.env_defaults
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        })
    }
}

/// Requests per run of one planrun process at most; more is a typo, not a test.
pub const MAX_USERS: u32 = 100_000;

/// The longest request timeout: latency histograms end at an hour, and a request that
/// may hang longer is a typo (`100000h`), not a test.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// `connection-idle` when the plan does not set it: below the keep-alive timeouts of
/// uvicorn, Node.js and Apache (5 s) and nginx (75 s), so a connection those servers may
/// be closing is never reused. gunicorn's own workers close after 2 s: plans against
/// them set `connection-idle: 1s`.
pub const DEFAULT_CONNECTION_IDLE: Duration = Duration::from_secs(4);
/// The longest `connection-idle`: past this, say `1h`, a limit no longer limits anything.
const MAX_CONNECTION_IDLE: Duration = Duration::from_secs(3600);

/// `max-body` when the plan does not set it.
pub const DEFAULT_MAX_BODY: ByteSize = ByteSize::mib(1);
/// The least `max-body`: below this even an error document is cut.
pub const MIN_MAX_BODY: ByteSize = ByteSize::kib(1);
/// The most `max-body`: every user inspecting at once may hold this much each.
pub const MAX_MAX_BODY: ByteSize = ByteSize::mib(256);

/// Compiles a loaded plan, with the command line's values over the plan's.
pub fn compile(plan: &LoadedPlan, overrides: &Overrides) -> Result<ExecPlan, PlanErrors> {
    let edits = overrides.edits();
    if edits.is_empty() {
        return compile_edited(plan, overrides);
    }
    compile_edited(&plan.edited(&edits)?, &overrides.applied())
}

fn compile_edited(plan: &LoadedPlan, overrides: &Overrides) -> Result<ExecPlan, PlanErrors> {
    let mut cx = Compiler::new(plan);
    let raw = &plan.raw;
    let root = KeyPath::root();

    let name = raw.name.clone().unwrap_or_else(|| {
        plan.root()
            .path
            .file_stem()
            .map_or_else(|| "plan".to_owned(), |s| s.to_string_lossy().into_owned())
    });
    let host = cx.host(raw.host.as_deref());
    let timeout = cx
        .timeout(raw.timeout.as_deref(), &root.key("timeout"))
        .unwrap_or(Duration::from_secs(30));
    let max_body = cx
        .max_body(raw.max_body.as_ref(), &root.key("max-body"))
        .unwrap_or(DEFAULT_MAX_BODY);
    let connection_idle = cx
        .connection_idle(raw.connection_idle.as_deref(), &root.key("connection-idle"))
        .unwrap_or(DEFAULT_CONNECTION_IDLE);
    let seed = raw.seed.unwrap_or_else(rand::random);

    let vars: IndexMap<String, minijinja::Value> = raw
        .vars
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), minijinja::Value::from_serialize(v)))
        .collect();

    let classes = cx.classes(timeout);
    let (schedule, arrivals) = match raw.load.as_ref().filter(|l| open_load::is_open(l)) {
        Some(load) => match open_load::compile(&mut cx, load, &classes) {
            Some((schedule, arrivals)) => (Some(schedule), Some(arrivals)),
            None => (None, None),
        },
        None => (load::schedule(&mut cx, raw.load.as_ref()), None),
    };
    let raw_load = raw.load.as_ref();
    let total = schedule.as_ref().map(|s| s.total);
    let bursts = probes::bursts(
        &mut cx,
        raw_load.and_then(|l| l.bursts.as_ref()),
        &classes,
        total,
    );
    let recovery = probes::recovery(
        &mut cx,
        raw_load.and_then(|l| l.recovery.as_ref()),
        &classes,
    );
    let preflight = preflight::compile(&mut cx, timeout);
    let business = business::compile(&mut cx);
    let slos = slo::compile(&mut cx, schedule.as_ref(), &business);
    if recovery.is_none()
        && slos
            .iter()
            .any(|s| s.threshold.metric == SloMetric::Recovery)
    {
        cx.error(
            root.key("slos"),
            PlanErrorKind::BadSlo {
                found: "recovery".into(),
                message:
                    "a `recovery` SLO needs `load.recovery` (which request to poll after the load)"
                        .into(),
            },
        );
    }
    let data = data::compile(&mut cx);
    let secrets = secrets::collect(&cx, overrides);
    let (globals, unset_env) =
        checks::check_templates(&mut cx, &classes, vars, data, seed, overrides, &secrets);

    let weights: Vec<u32> = classes.iter().map(|c| c.weight).collect();
    let peak = schedule.as_ref().map_or(0, LoadSchedule::peak);
    let mix = UserMix::new(peak, &weights);

    let Compiler {
        errors,
        templates,
        requests,
        metrics,
        checks,
        outcomes,
        ..
    } = cx;
    let (Some((host, target)), Some(schedule)) = (host, schedule) else {
        return Err(errors.into_result(()).err().unwrap_or_default());
    };
    let mut requests = requests;
    // Nothing is left to decide at run time: a static path's URL is made here, once
    // (a path that cannot make one was reported where it is written).
    for spec in &mut requests {
        if let Text::Static(path) = &spec.path {
            spec.url = target.url(path).ok();
        }
    }
    errors.into_result(ExecPlan {
        name,
        plan_file: plan.root().path.clone(),
        host,
        target,
        seed,
        max_body,
        connection_idle,
        requests,
        metrics,
        checks,
        outcomes,
        business,
        classes,
        mix,
        schedule,
        arrivals,
        bursts,
        recovery,
        slos,
        preflight,
        templates,
        globals,
        resolved: resolved_value(plan),
        command: overrides.command.clone(),
        unset_env,
        secrets,
    })
}

/// The plan as run: the merged tree (after `extends`, `--set` and the flags' edits:
/// `--host`, `-u/-r/-t`, `--seed`), credential headers hidden.
fn resolved_value(plan: &LoadedPlan) -> serde_json::Value {
    let mut value = plan.value.clone();
    if let Some(object) = value.as_object_mut() {
        object.shift_remove("extends");
    }
    redact::redact_credentials(&mut value);
    value
}

/// "did you mean `5m`?" for a duration without a unit or in words (`5`, `5 minutes`).
fn duration_hint(text: &str) -> Option<String> {
    suggest_duration(text).map(|d| format!("did you mean `{d}`?"))
}

/// Compile state: the artefacts being built and the errors found so far.
pub(crate) struct Compiler<'p> {
    pub plan: &'p LoadedPlan,
    pub errors: PlanErrors,
    pub templates: Templates,
    pub requests: Vec<RequestSpec>,
    pub metrics: Vec<MetricName>,
    pub checks: Vec<InspectionName>,
    pub outcomes: Vec<InspectionName>,
    /// Every compiled template with where it was written and the class using it.
    pub sites: Vec<checks::Site>,
    /// The plan's host, once known to be valid: written paths are checked against it.
    pub target: Option<Target>,
}

impl<'p> Compiler<'p> {
    fn new(plan: &'p LoadedPlan) -> Self {
        Self {
            plan,
            errors: PlanErrors::default(),
            templates: Templates::new(),
            requests: Vec::new(),
            metrics: Vec::new(),
            checks: Vec::new(),
            outcomes: Vec::new(),
            sites: Vec::new(),
            target: None,
        }
    }

    /// Records an error at `path`.
    pub fn error(&mut self, path: KeyPath, kind: PlanErrorKind) {
        let error = self.plan.error(path, kind, Part::Value);
        self.errors.push(error);
    }

    pub fn error_with_hint(&mut self, path: KeyPath, kind: PlanErrorKind, hint: Option<String>) {
        let error = self.plan.error(path, kind, Part::Value).with_hint(hint);
        self.errors.push(error);
    }

    /// Parses an optional duration at `path`.
    pub fn duration(&mut self, text: Option<&str>, path: &KeyPath) -> Option<Duration> {
        match parse_duration(text?) {
            Ok(d) => Some(d),
            Err(message) => {
                let hint = duration_hint(text?);
                self.error_with_hint(path.clone(), PlanErrorKind::BadDuration { message }, hint);
                None
            }
        }
    }

    /// Parses an optional request timeout at `path`: more than 0s, at most `MAX_TIMEOUT`.
    pub fn timeout(&mut self, text: Option<&str>, path: &KeyPath) -> Option<Duration> {
        self.bounded_duration(
            text,
            path,
            "a timeout of 0s fails every request: expected more than 0s",
            (MAX_TIMEOUT, "expected a timeout of at most 1h"),
        )
    }

    /// Parses an optional `connection-idle` at `path`: more than 0s, at most 1h.
    fn connection_idle(&mut self, text: Option<&str>, path: &KeyPath) -> Option<Duration> {
        self.bounded_duration(
            text,
            path,
            "expected a `connection-idle` of more than 0s (a new connection for every request is not what a browser does)",
            (MAX_CONNECTION_IDLE, "expected a `connection-idle` of at most 1h"),
        )
    }

    /// Parses an optional duration at `path` that must be more than 0s and at most
    /// `max.0`; each refusal says what was expected (`if_zero`, `max.1`).
    fn bounded_duration(
        &mut self,
        text: Option<&str>,
        path: &KeyPath,
        if_zero: &str,
        max: (Duration, &str),
    ) -> Option<Duration> {
        let duration = self.duration(text, path)?;
        let problem = if duration.is_zero() {
            if_zero
        } else if duration > max.0 {
            max.1
        } else {
            return Some(duration);
        };
        let found = text.unwrap_or_default();
        self.error(
            path.clone(),
            PlanErrorKind::BadDuration {
                message: format!("`{found}`: {problem}"),
            },
        );
        None
    }

    /// Parses an optional `max-body` at `path`: from `MIN_MAX_BODY` to `MAX_MAX_BODY`.
    fn max_body(&mut self, value: Option<&Scalar>, path: &KeyPath) -> Option<ByteSize> {
        let text = value?.to_string();
        let message = match ByteSize::parse(&text) {
            Ok(size) if size < MIN_MAX_BODY => {
                format!("`{text}`: expected a `max-body` of at least {MIN_MAX_BODY}")
            }
            Ok(size) if size > MAX_MAX_BODY => {
                format!("`{text}`: expected a `max-body` of at most {MAX_MAX_BODY}")
            }
            Ok(size) => return Some(size),
            Err(message) => message,
        };
        self.error(path.clone(), PlanErrorKind::BadSize { message });
        None
    }

    /// Parses an optional rate at `path`.
    pub fn rate(&mut self, text: Option<String>, path: &KeyPath) -> Option<Rate> {
        match Rate::parse(&text?) {
            Ok(r) => Some(r),
            Err(message) => {
                self.error(path.clone(), PlanErrorKind::BadRate { message });
                None
            }
        }
    }

    /// A positive weight at `path` (default 1).
    pub fn weight(&mut self, weight: Option<i64>, path: &KeyPath) -> u32 {
        match weight {
            None => 1,
            Some(w) if w > 0 && w <= i64::from(u32::MAX / 1024) => w as u32,
            Some(w) => {
                self.error(
                    path.clone(),
                    PlanErrorKind::BadWeight {
                        found: w.to_string(),
                    },
                );
                1
            }
        }
    }

    /// The host as reports show it, and as requests are built from it.
    fn host(&mut self, host: Option<&str>) -> Option<(String, Target)> {
        let path = KeyPath::root().key("host");
        let Some(host) = host else {
            self.error(path, PlanErrorKind::NoHost);
            return None;
        };
        // `127.0.0.1:9` or `localhost:8000`: the scheme is missing (or read as one).
        let parsed = if host.contains("://") {
            Target::parse(host)
        } else {
            Err("no scheme: expected `http://` or `https://` before the host".to_owned())
        };
        match parsed {
            Ok(target) => {
                self.target = Some(target.clone());
                Some((host.trim().trim_end_matches('/').to_owned(), target))
            }
            Err(reason) => {
                let hint = (!host.contains("://"))
                    .then(|| format!("http://{host}"))
                    .filter(|url| Target::parse(url).is_ok())
                    .map(|url| format!("did you mean `{url}`?"));
                let kind = PlanErrorKind::BadHost {
                    found: target::without_password(host),
                    reason,
                };
                let error = self.plan.error(path, kind, Part::Value).with_hint(hint);
                // Nor does the snippet of the plan show the password.
                let error = match target::raw_password(host) {
                    Some(password) => error.masking(password),
                    None => error,
                };
                self.errors.push(error);
                None
            }
        }
    }

    /// The metric id for a request name, registering it on first use.
    pub fn metric(&mut self, name: &str, method: &reqwest::Method) -> MetricId {
        if let Some(i) = self.metrics.iter().position(|m| m.name == name) {
            return MetricId(i as u32);
        }
        self.metrics.push(MetricName {
            name: name.to_owned(),
            method: method.clone(),
        });
        MetricId((self.metrics.len() - 1) as u32)
    }

    /// The id of a named check of a request name, registering it on first use.
    pub fn check(&mut self, request: &str, name: &str) -> CheckId {
        CheckId(register(&mut self.checks, request, name))
    }

    /// The id of a named outcome of a request name, registering it on first use.
    pub fn outcome(&mut self, request: &str, name: &str) -> OutcomeId {
        OutcomeId(register(&mut self.outcomes, request, name))
    }

    fn classes(&mut self, timeout: Duration) -> Vec<UserClass> {
        let classes_path = KeyPath::root().key("classes");
        let raw_classes = match &self.plan.raw.classes {
            Some(classes) if !classes.is_empty() => classes,
            _ => {
                self.error(classes_path, PlanErrorKind::NoClasses);
                return Vec::new();
            }
        };
        let mut classes = Vec::new();
        for (index, (name, raw)) in raw_classes.iter().enumerate() {
            let path = classes_path.key(name.clone());
            let weight = self.weight(raw.weight, &path.key("weight"));
            let think = match raw.think_time.as_deref() {
                None => ThinkTime::None,
                Some(text) => ThinkTime::parse(text).unwrap_or_else(|| {
                    self.error(
                        path.key("think-time"),
                        PlanErrorKind::BadThinkTime {
                            found: text.to_owned(),
                        },
                    );
                    ThinkTime::None
                }),
            };
            let context = requests::RequestContext {
                class: index,
                class_headers: raw.headers.as_ref(),
                class_path: path.clone(),
                timeout,
            };
            let on_start = raw
                .on_start
                .iter()
                .flatten()
                .enumerate()
                .flat_map(|(i, step)| {
                    requests::step(self, &context, step, &path.key("on-start").index(i), None)
                })
                .collect();
            let mut tasks = Vec::new();
            match &raw.tasks {
                Some(raw_tasks) if !raw_tasks.is_empty() => {
                    for (task_name, step) in raw_tasks {
                        let task_path = path.key("tasks").key(task_name.clone());
                        let weight = self.weight(step.weight, &task_path.key("weight"));
                        let actions = requests::task(self, &context, step, &task_path, task_name);
                        tasks.push(Task {
                            name: task_name.clone(),
                            weight,
                            actions,
                        });
                    }
                }
                _ => self.error(
                    path.key("tasks"),
                    PlanErrorKind::NoTasks {
                        class: name.clone(),
                    },
                ),
            }
            let picker =
                WeightTable::new(tasks.iter().map(|t| t.weight).collect()).unwrap_or_else(|| {
                    WeightTable::new(vec![1])
                        .unwrap_or_else(|| unreachable!("[1] is a valid table"))
                });
            let on_start_failure = match raw.on_start_failure.as_deref() {
                None | Some("retry") => OnStartFailure::Retry,
                Some("stop") => OnStartFailure::Stop,
                Some(other) => {
                    let hint = crate::plan::did_you_mean(other, ["retry", "stop"]);
                    self.error_with_hint(
                        path.key("on-start-failure"),
                        PlanErrorKind::BadStep {
                            message: format!(
                                "`on-start-failure` is `retry` or `stop`, not `{other}`"
                            ),
                        },
                        hint,
                    );
                    OnStartFailure::Retry
                }
            };
            classes.push(UserClass {
                name: name.clone(),
                weight,
                think,
                on_start,
                on_start_failure,
                tasks,
                picker,
            });
        }
        classes
    }
}

/// The index of `(request, name)` in `names`, appended if new.
fn register(names: &mut Vec<InspectionName>, request: &str, name: &str) -> u32 {
    let position = names
        .iter()
        .position(|n| n.request == request && n.name == name)
        .unwrap_or_else(|| {
            names.push(InspectionName {
                request: request.to_owned(),
                name: name.to_owned(),
            });
            names.len() - 1
        });
    position as u32
}
