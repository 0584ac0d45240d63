//! `Error`: what stops a run before or after the load, one variant per stage. A failing
//! target is never an error: it is data in the summary.

use crate::compile::Secrets;
use crate::engine::PreflightError;
use crate::plan::PlanErrors;
use crate::report::ReportError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan is invalid; nothing was sent.
    #[error("{0}")]
    Plan(#[from] PlanErrors),
    #[error("cannot start the sample API: {0}")]
    SampleApi(std::io::Error),
    /// The target did not answer the preflight request; nothing else was sent.
    #[error(
        "{0}\nthe target at `{host}` does not answer as expected, so the load was not started \
         (`--no-preflight` skips this check)",
        host = .0.host
    )]
    Preflight(#[from] PreflightError),
    #[error("cannot set up HTTPS: {0}")]
    Transport(String),
    #[error("{0}")]
    Report(#[from] ReportError),
}

impl Error {
    /// The error with the values of `secrets` hidden: a preflight URL or problem, or a
    /// transport message, may quote a rendered value. Plan errors were scrubbed where
    /// they were made (compile's dry render); report errors name only paths and the
    /// operating system's message.
    pub(crate) fn scrubbed(self, secrets: &Secrets) -> Self {
        match self {
            Error::Preflight(e) => Error::Preflight(PreflightError {
                host: secrets.scrub(&e.host),
                url: secrets.scrub(&e.url),
                origin: secrets.scrub(&e.origin),
                problem: secrets.scrub(&e.problem),
            }),
            Error::Transport(message) => Error::Transport(secrets.scrub(&message)),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_after_compile_leave_scrubbed() {
        let secrets = Secrets::new([("TOKEN", "tok-12345")]);
        let error = Error::Preflight(PreflightError {
            host: "http://127.0.0.1:1".into(),
            url: "http://127.0.0.1:1/health?token=tok-12345".into(),
            origin: "the plan's `preflight`".into(),
            problem: "got no answer: connect".into(),
        })
        .scrubbed(&secrets);
        let message = error.to_string();
        assert!(message.contains("token=[redacted]"), "{message}");
        let error = Error::Transport("bad tok-12345".into()).scrubbed(&secrets);
        assert_eq!(error.to_string(), "cannot set up HTTPS: bad [redacted]");
    }
}
