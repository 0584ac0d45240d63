//! `Error`: what stops a run before or after the load, one variant per stage. A failing
//! target is never an error: it is data in the summary.

use crate::plan::PlanErrors;
use crate::report::ReportError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan is invalid; nothing was sent.
    #[error("{0}")]
    Plan(#[from] PlanErrors),
    #[error("cannot start the sample API: {0}")]
    SampleApi(std::io::Error),
    #[error("cannot set up HTTPS: {0}")]
    Transport(String),
    #[error("{0}")]
    Report(#[from] ReportError),
}
