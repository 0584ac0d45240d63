//! The compile context: the plan being compiled, the artefacts built so far and the
//! errors found so far. Every compile step takes it as `cx`.

use std::time::Duration;

use super::checks;
use super::graph::{RequestName, RequestNameId, RequestSpec};
use super::inspect::{CheckId, InspectionName, OutcomeId};
use super::target::{self, Target};
use super::templates::Templates;
use super::{MAX_CONNECTION_IDLE, MAX_MAX_BODY, MAX_TIMEOUT, MIN_MAX_BODY};
use crate::plan::raw::Scalar;
use crate::plan::{KeyPath, LoadedPlan, Part, PlanErrorKind, PlanErrors};
use crate::units::{ByteSize, Rate, parse_duration, suggest_duration};

/// Compile state: the artefacts being built and the errors found so far.
pub(crate) struct Compiler<'p> {
    pub(crate) plan: &'p LoadedPlan,
    pub(crate) errors: PlanErrors,
    pub(crate) templates: Templates,
    pub(crate) requests: Vec<RequestSpec>,
    pub(crate) request_names: Vec<RequestName>,
    pub(crate) checks: Vec<InspectionName>,
    pub(crate) outcomes: Vec<InspectionName>,
    /// Every compiled template with where it was written and the class using it.
    pub(crate) sites: Vec<checks::Site>,
    /// The plan's host, once known to be valid: written paths are checked against it.
    pub(crate) target: Option<Target>,
}

impl<'p> Compiler<'p> {
    /// A context for compiling `plan`, with nothing built yet.
    pub(super) fn new(plan: &'p LoadedPlan) -> Self {
        Self {
            plan,
            errors: PlanErrors::default(),
            templates: Templates::new(),
            requests: Vec::new(),
            request_names: Vec::new(),
            checks: Vec::new(),
            outcomes: Vec::new(),
            sites: Vec::new(),
            target: None,
        }
    }

    /// Records an error at `path`.
    pub(crate) fn error(&mut self, path: KeyPath, kind: PlanErrorKind) {
        let error = self.plan.error(path, kind, Part::Value);
        self.errors.push(error);
    }

    /// Records an error at `path` with a hint ("did you mean …?").
    pub(crate) fn error_with_hint(
        &mut self,
        path: KeyPath,
        kind: PlanErrorKind,
        hint: Option<String>,
    ) {
        let error = self.plan.error(path, kind, Part::Value).with_hint(hint);
        self.errors.push(error);
    }

    /// Parses an optional duration at `path`.
    pub(crate) fn duration(&mut self, text: Option<&str>, path: &KeyPath) -> Option<Duration> {
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
    pub(crate) fn timeout(&mut self, text: Option<&str>, path: &KeyPath) -> Option<Duration> {
        self.bounded_duration(
            text,
            path,
            "a timeout of 0s fails every request: expected more than 0s",
            (MAX_TIMEOUT, "expected a timeout of at most 1h"),
        )
    }

    /// Parses an optional `connection-idle` at `path`: more than 0s, at most 1h.
    pub(super) fn connection_idle(
        &mut self,
        text: Option<&str>,
        path: &KeyPath,
    ) -> Option<Duration> {
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
    pub(super) fn max_body(&mut self, value: Option<&Scalar>, path: &KeyPath) -> Option<ByteSize> {
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
    pub(crate) fn rate(&mut self, text: Option<String>, path: &KeyPath) -> Option<Rate> {
        match Rate::parse(&text?) {
            Ok(r) => Some(r),
            Err(message) => {
                self.error(path.clone(), PlanErrorKind::BadRate { message });
                None
            }
        }
    }

    /// A positive weight at `path` (default 1).
    pub(crate) fn weight(&mut self, weight: Option<i64>, path: &KeyPath) -> u32 {
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
    pub(super) fn host(&mut self, host: Option<&str>) -> Option<(String, Target)> {
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
    pub(crate) fn name_id(&mut self, name: &str, method: &http::Method) -> RequestNameId {
        if let Some(i) = self.request_names.iter().position(|m| m.name == name) {
            return RequestNameId(i as u32);
        }
        self.request_names.push(RequestName {
            name: name.to_owned(),
            method: method.clone(),
        });
        RequestNameId((self.request_names.len() - 1) as u32)
    }

    /// The id of a named check of a request name, registering it on first use.
    pub(super) fn check(&mut self, request: &str, name: &str) -> CheckId {
        CheckId(register(&mut self.checks, request, name))
    }

    /// The id of a named outcome of a request name, registering it on first use.
    pub(crate) fn outcome(&mut self, request: &str, name: &str) -> OutcomeId {
        OutcomeId(register(&mut self.outcomes, request, name))
    }
}

/// "did you mean `5m`?" for a duration without a unit or in words (`5`, `5 minutes`).
fn duration_hint(text: &str) -> Option<String> {
    suggest_duration(text).map(|d| format!("did you mean `{d}`?"))
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
