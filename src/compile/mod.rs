//! Compile: `LoadedPlan` → `ExecPlan`, the executor graph.
//!
//! Templates are compiled once, weights resolved into pick tables, users apportioned,
//! stages turned into a schedule and SLOs bound to request names. Errors are collected,
//! not returned at the first one, and every template is checked (undefined variables,
//! unknown functions, a dry render per class) before any request is sent.

mod arrival_plan;
mod business;
mod checks;
mod classes;
mod context;
mod data;
pub(crate) mod estimate;
mod graph;
pub(crate) mod inspect;
mod load;
mod open_load;
mod overrides;
mod preflight;
mod probes;
mod redact;
mod requests;
mod schedule;
pub(crate) mod secrets;
pub mod slo;
mod target;
pub(crate) mod templates;
mod think;
mod tls;
mod weights;

use std::time::Duration;

use indexmap::IndexMap;

use crate::plan::{KeyPath, LoadedPlan, PlanErrorKind, PlanErrors};
use crate::units::ByteSize;
use context::Compiler;
use slo::{Slo, SloMeasure};

pub(crate) use arrival_plan::{ArrivalPlan, ArrivalStream, Arrivals, Spacing, TaskPick};
pub use business::{BusinessId, BusinessKind, BusinessMetric};
pub use graph::{
    Action, ExecPlan, ON_START_RETRY_MIN, OnStartFailure, RequestId, RequestName, RequestNameId,
    RequestSpec, Task, UserClass,
};
pub use inspect::{CheckId, Inspection, InspectionName, OutcomeId};
pub use overrides::Overrides;
pub use preflight::{Preflight, PreflightOrigin};
pub(crate) use probes::{Burst, RecoveryProbe};
pub(crate) use redact::{REDACTED, is_credential_header};
pub(crate) use schedule::LoadSchedule;
pub(crate) use secrets::Secrets;
pub use target::Target;
pub(crate) use target::quoted;
pub(crate) use templates::{Templates, Text, UserScope};
pub use think::ThinkTime;
pub use tls::{ClientAuth, TlsOptions, TlsVersion};
pub(crate) use weights::{UserMix, WeightTable};

/// Requests per run of one planrun process at most; more is a typo, not a test.
pub(crate) const MAX_USERS: u32 = 100_000;

/// The longest request timeout: latency histograms end at an hour, and a request that
/// may hang longer is a typo (`100000h`), not a test.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// `connection-idle` when the plan does not set it: below the keep-alive timeouts of
/// uvicorn, Node.js and Apache (5 s) and nginx (75 s), so a connection those servers may
/// be closing is never reused. gunicorn's own workers close after 2 s: plans against
/// them set `connection-idle: 1s`.
pub(crate) const DEFAULT_CONNECTION_IDLE: Duration = Duration::from_secs(4);
/// The longest `connection-idle`: past this, say `1h`, a limit no longer limits anything.
const MAX_CONNECTION_IDLE: Duration = Duration::from_secs(3600);

/// `max-body` when the plan does not set it.
pub(crate) const DEFAULT_MAX_BODY: ByteSize = ByteSize::mib(1);
/// The least `max-body`: below this even an error document is cut.
pub(crate) const MIN_MAX_BODY: ByteSize = ByteSize::kib(1);
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

/// Compiles a plan whose tree already carries the flags' edits. Every step runs, in the
/// plan's order, so that all of its errors are reported at once.
fn compile_edited(plan: &LoadedPlan, overrides: &Overrides) -> Result<ExecPlan, PlanErrors> {
    let mut cx = Compiler::new(plan);
    let host = cx.host(plan.raw.host.as_deref());
    let limits = Limits::compile(&mut cx);
    let seed = plan.raw.seed.unwrap_or_else(rand::random);
    let classes = classes::compile(&mut cx, limits.timeout);
    let load = Load::compile(&mut cx, &classes);
    let preflight = preflight::compile(&mut cx, limits.timeout);
    let business = business::compile(&mut cx);
    let slos = slos(&mut cx, &load, &business);
    let data = data::compile(&mut cx);
    let tls = tls::compile(&mut cx);
    let secrets = secrets::collect(&cx, overrides);
    let (globals, unset_env) = checks::check_templates(
        &mut cx,
        &classes,
        vars(plan),
        data,
        seed,
        overrides,
        &secrets,
    );
    let (Some((host, target)), Some(schedule)) = (host, load.schedule) else {
        return Err(cx.errors.into_result(()).err().unwrap_or_default());
    };
    cx.errors.into_result(ExecPlan {
        name: plan_name(plan),
        plan_file: plan.root().path.clone(),
        host,
        target,
        seed,
        max_body: limits.max_body,
        connection_idle: limits.connection_idle,
        tls,
        requests: cx.requests,
        request_names: cx.request_names,
        checks: cx.checks,
        outcomes: cx.outcomes,
        business,
        mix: user_mix(&classes, &schedule),
        classes,
        schedule,
        arrivals: load.arrivals,
        bursts: load.bursts,
        recovery: load.recovery,
        slos,
        preflight,
        templates: cx.templates,
        globals,
        resolved: resolved_value(plan),
        command: overrides.command.clone(),
        unset_env,
        secrets,
    })
}

/// The plan's `name`, else its file's name without the extension.
fn plan_name(plan: &LoadedPlan) -> String {
    plan.raw.name.clone().unwrap_or_else(|| {
        plan.root()
            .path
            .file_stem()
            .map_or_else(|| "plan".to_owned(), |s| s.to_string_lossy().into_owned())
    })
}

/// The plan-wide limits of every request, with their defaults.
struct Limits {
    /// `timeout`: a request's, unless it sets its own.
    timeout: Duration,
    /// `max-body`: the most of a response body kept.
    max_body: ByteSize,
    /// `connection-idle`: how long an idle connection is reused.
    connection_idle: Duration,
}

impl Limits {
    /// Reads `timeout`, `max-body` and `connection-idle`, in that order.
    fn compile(cx: &mut Compiler) -> Self {
        let plan = cx.plan;
        let raw = &plan.raw;
        let root = KeyPath::root();
        let timeout = cx
            .timeout(raw.timeout.as_deref(), &root.key("timeout"))
            .unwrap_or(Duration::from_secs(30));
        let max_body = cx
            .max_body(raw.max_body.as_ref(), &root.key("max-body"))
            .unwrap_or(DEFAULT_MAX_BODY);
        let connection_idle = cx
            .connection_idle(raw.connection_idle.as_deref(), &root.key("connection-idle"))
            .unwrap_or(DEFAULT_CONNECTION_IDLE);
        Self {
            timeout,
            max_body,
            connection_idle,
        }
    }
}

/// The load: a schedule (none if it did not compile), an open model's arrivals, the
/// bursts over it and the recovery probe after it.
struct Load {
    schedule: Option<LoadSchedule>,
    arrivals: Option<ArrivalPlan>,
    bursts: Vec<Burst>,
    recovery: Option<RecoveryProbe>,
}

impl Load {
    /// Compiles `load`: an arrival-rate (open) model or users (closed), then its probes.
    fn compile(cx: &mut Compiler, classes: &[UserClass]) -> Self {
        let plan = cx.plan;
        let raw_load = plan.raw.load.as_ref();
        let (schedule, arrivals) = match raw_load.filter(|l| open_load::is_open(l)) {
            Some(load) => match open_load::compile(cx, load, classes) {
                Some((schedule, arrivals)) => (Some(schedule), Some(arrivals)),
                None => (None, None),
            },
            None => (load::schedule(cx, raw_load), None),
        };
        let total = schedule.as_ref().map(|s| s.total);
        let bursts = probes::bursts(cx, raw_load.and_then(|l| l.bursts.as_ref()), classes, total);
        let recovery = probes::recovery(cx, raw_load.and_then(|l| l.recovery.as_ref()), classes);
        Self {
            schedule,
            arrivals,
            bursts,
            recovery,
        }
    }
}

/// The SLOs, bound to requests; a `recovery` SLO needs `load.recovery` to measure.
fn slos(cx: &mut Compiler, load: &Load, business: &[BusinessMetric]) -> Vec<Slo> {
    let slos = slo::compile(cx, load.schedule.as_ref(), business);
    let measures_recovery = slos
        .iter()
        .any(|s| s.threshold.measure == SloMeasure::Recovery);
    if load.recovery.is_none() && measures_recovery {
        cx.error(
            KeyPath::root().key("slos"),
            PlanErrorKind::BadSlo {
                found: "recovery".into(),
                message:
                    "a `recovery` SLO needs `load.recovery` (which request to poll after the load)"
                        .into(),
            },
        );
    }
    slos
}

/// The plan's `vars`, as template values.
fn vars(plan: &LoadedPlan) -> IndexMap<String, minijinja::Value> {
    plan.raw
        .vars
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), minijinja::Value::from_serialize(v)))
        .collect()
}

/// How many users of each class run at the schedule's peak.
fn user_mix(classes: &[UserClass], schedule: &LoadSchedule) -> UserMix {
    let weights: Vec<u32> = classes.iter().map(|c| c.weight).collect();
    UserMix::new(schedule.peak(), &weights)
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
