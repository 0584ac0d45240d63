//! `ExecPlan`: the compiled executor graph. Nothing in it is left to decide at run time:
//! templates are compiled, weights resolved to pick tables, users apportioned to classes,
//! stages turned into a schedule, SLOs parsed and bound to request names.

use std::path::PathBuf;
use std::time::Duration;

use http::Method;
use http::header::{HeaderMap, HeaderName};
use url::Url;

use super::arrival_plan::ArrivalPlan;
use super::business::BusinessMetric;
use super::inspect::{Inspection, InspectionName};
use super::preflight::Preflight;
use super::probes::{Burst, RecoveryProbe};
use super::schedule::LoadSchedule;
use super::secrets::Secrets;
use super::slo::Slo;
use super::templates::{Globals, TemplateId, Templates, Text};
use super::think::ThinkTime;
use super::weights::{UserMix, WeightTable};
use crate::units::{ByteSize, StatusSet};

/// Index of a request name in `ExecPlan::metrics`: what statistics are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestNameId(pub(crate) u32);

/// Index of a request in `ExecPlan::requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(pub(crate) u32);

/// A request name as reports show it: the name and the method of its first request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestName {
    pub(crate) name: String,
    pub(crate) method: Method,
}

/// The compiled plan.
#[derive(Debug)]
pub struct ExecPlan {
    /// The plan's display name.
    pub(crate) name: String,
    /// The plan file given on the command line.
    pub(crate) plan_file: PathBuf,
    /// Base URL without a trailing slash.
    pub(crate) host: String,
    /// The host that every request URL is made on: no rendered value can change it.
    pub(crate) target: super::Target,
    /// The seed every random choice derives from (given or drawn, always recorded).
    pub(crate) seed: u64,
    /// The most of a response body kept for inspection (`max-body`); the rest of it is
    /// read and counted, never stored.
    pub max_body: ByteSize,
    /// How long a kept-alive connection may sit idle before it is replaced rather than
    /// reused (`connection-idle`).
    pub(crate) connection_idle: Duration,
    /// How `https://` connections are set up (`tls`).
    pub(crate) tls: super::TlsOptions,
    pub(crate) requests: Vec<RequestSpec>,
    /// Request names, in order of first appearance in the plan.
    pub(crate) request_names: Vec<RequestName>,
    /// Named checks, indexed by `CheckId`.
    pub(crate) checks: Vec<InspectionName>,
    /// Named outcomes, indexed by `OutcomeId`.
    pub(crate) outcomes: Vec<InspectionName>,
    pub(crate) business: Vec<BusinessMetric>,
    pub(crate) classes: Vec<UserClass>,
    /// Users per class at the peak, and the order users start in.
    pub mix: UserMix,
    pub schedule: LoadSchedule,
    /// An arrival-rate (open-model) load; `None` runs the schedule's users (closed model).
    pub(crate) arrivals: Option<ArrivalPlan>,
    /// Requests released all at once at given instants.
    pub(crate) bursts: Vec<Burst>,
    /// Polled after the load until the target answers well again.
    pub(crate) recovery: Option<RecoveryProbe>,
    pub slos: Vec<Slo>,
    /// The request that confirms the target answers before the load starts.
    pub preflight: Preflight,
    pub(crate) templates: Templates,
    pub(crate) globals: std::sync::Arc<Globals>,
    /// The plan as run (after `extends`, `--set` and flag overrides), for reports.
    pub resolved: serde_json::Value,
    /// The command line that ran the plan, when it came from one.
    pub(crate) command: Option<String>,
    /// Environment variables the templates read that are not set (only when compiled
    /// leniently, for `check`; a run needs them).
    pub(crate) unset_env: Vec<String>,
    /// The values of the variables marked secret, scrubbed from everything planrun writes.
    pub secrets: Secrets,
}

/// One HTTP request, ready to render.
#[derive(Debug)]
pub struct RequestSpec {
    pub(crate) name: RequestNameId,
    pub(crate) method: Method,
    /// Path (joined to the host), template or static.
    pub(crate) path: Text,
    /// The whole URL when `path` is static, parsed once here: parsing a URL (host and
    /// IDNA checks included) was a fifth of planrun's instructions per request at a
    /// fixed rate. `None` for a templated path (or one that does not parse, which the
    /// engine then reports per request).
    pub(crate) url: Option<Url>,
    pub(crate) query: Vec<(String, Text)>,
    /// Headers with fixed values, merged from plan, class and request.
    pub(crate) static_headers: HeaderMap,
    /// Headers whose values are templates.
    pub(crate) templated_headers: Vec<(HeaderName, Text)>,
    pub(crate) body: Option<Text>,
    pub(crate) expect: StatusSet,
    pub(crate) timeout: Duration,
    pub(crate) inspect: Inspection,
    /// `when`, compiled from `condition_source`: the step runs when it holds.
    pub(crate) when: Option<TemplateId>,
    /// A templated header reads `body`: render the body first and pass it in.
    pub(crate) headers_read_body: bool,
}

/// A step a user takes: send a request, set user variables, or pause.
#[derive(Debug)]
pub enum Action {
    Request(RequestId),
    Set(Vec<(String, Text)>),
    Pause(Duration),
}

/// A task: picked by weight, its actions run in order (a flow). A failed request ends
/// the flow's iteration: later steps would act on what it did not produce.
#[derive(Debug)]
pub struct Task {
    pub(crate) name: String,
    pub(crate) weight: u32,
    pub(crate) actions: Vec<Action>,
}

/// A user class with its resolved tasks and pick table.
#[derive(Debug)]
pub struct UserClass {
    pub(crate) name: String,
    pub(crate) weight: u32,
    pub(crate) think: ThinkTime,
    pub(crate) on_start: Vec<Action>,
    /// What a user whose `on-start` failed does; it never runs a task before it succeeds.
    pub(crate) on_start_failure: OnStartFailure,
    pub(crate) tasks: Vec<Task>,
    pub(crate) picker: WeightTable,
}

/// `on-start-failure`: what a user whose `on-start` failed does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnStartFailure {
    /// Think (`ON_START_RETRY_MIN` when the think time is nil), then run `on-start` again.
    #[default]
    Retry,
    /// Stop: the user runs nothing more.
    Stop,
}

/// The wait before a failed `on-start` runs again when the class has no think time, so
/// that it does not send log-ins as fast as the target refuses them.
pub const ON_START_RETRY_MIN: std::time::Duration = std::time::Duration::from_secs(1);

impl ExecPlan {
    pub(crate) fn request_name(&self, id: RequestNameId) -> &RequestName {
        &self.request_names[id.0 as usize]
    }

    pub(crate) fn request(&self, id: RequestId) -> &RequestSpec {
        &self.requests[id.0 as usize]
    }
}
