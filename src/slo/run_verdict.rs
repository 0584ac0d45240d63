//! `RunVerdict`: the run's verdict in a word (pass, warn or fail) with `--strict`
//! applied, and the exit code that follows from it. `RunVerdict::judge` is the one place
//! both are decided: `Results::new` stores its answer in `summary.json`, and the exit
//! code and every report (terminal, JSON, HTML, JUnit, Markdown, `planrun report`) read
//! it from there, so none can say something else.

use serde::{Deserialize, Serialize};

use super::Status;
use crate::units::exit_code;

/// The verdict of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunVerdict {
    /// `pass`; `warn` when a target was missed and nothing fails the run; `fail` when a
    /// critical SLO failed, an `abort` SLO stopped the run, or with `--strict` a target
    /// was missed.
    pub status: Status,
    /// `--strict`: a missed target fails the run.
    pub strict: bool,
    /// SLOs whose status is `fail`.
    pub(crate) failed: u64,
    /// SLOs whose status is `warn` (targets missed).
    pub(crate) warned: u64,
    /// SLOs in the plan.
    pub(crate) slos: u64,
    /// An `abort` SLO stopped the run early.
    pub(crate) aborted: bool,
    /// What the process exited with: 0, 4 (`SLO_BREACHED`) or 130 (`INTERRUPTED`).
    pub exit_code: u8,
}

impl RunVerdict {
    /// The run's verdict from its SLOs' statuses.
    pub(crate) fn judge(
        statuses: impl IntoIterator<Item = Status>,
        strict: bool,
        aborted: bool,
        interrupted: bool,
    ) -> Self {
        let (mut failed, mut warned, mut slos) = (0, 0, 0);
        for status in statuses {
            slos += 1;
            match status {
                Status::Fail => failed += 1,
                Status::Warn => warned += 1,
                Status::Pass => {}
            }
        }
        let status = if failed > 0 || aborted || (strict && warned > 0) {
            Status::Fail
        } else if warned > 0 {
            Status::Warn
        } else {
            Status::Pass
        };
        let exit_code = if interrupted {
            exit_code::INTERRUPTED
        } else if status == Status::Fail {
            exit_code::SLO_BREACHED
        } else {
            exit_code::OK
        };
        Self {
            status,
            strict,
            failed,
            warned,
            slos,
            aborted,
            exit_code,
        }
    }

    /// A placeholder for a `summary.json` written before verdicts were recorded;
    /// `json::parse` replaces it with `Results::judged_from_slos`.
    pub(crate) fn unrecorded() -> Self {
        Self::judge([], false, false, false)
    }

    /// Whether an SLO with this status fails the run: a FAIL, or a WARN under `--strict`.
    pub(crate) fn fails(&self, status: Status) -> bool {
        status == Status::Fail || (self.strict && status == Status::Warn)
    }

    /// `PASSED`, `WARNING` or `FAILED`: the word reports lead with.
    pub(crate) fn word(&self) -> &'static str {
        match self.status {
            Status::Pass => "PASSED",
            Status::Warn => "WARNING",
            Status::Fail => "FAILED",
        }
    }

    /// Why, in words: `all 3 SLOs passed`, `1 of 3 SLOs missed its target (WARN): exit 0
    /// unless --strict`, `1 of 3 SLOs failed`, `…, which fails the run under --strict`.
    pub(crate) fn reason(&self) -> String {
        let of = |n: u64| {
            if self.slos == 1 {
                "the SLO".to_owned()
            } else {
                format!("{n} of {} SLOs", self.slos)
            }
        };
        let mut parts = Vec::new();
        if self.aborted {
            parts.push("an `abort` SLO stopped the run early".to_owned());
        }
        if self.failed > 0 {
            parts.push(format!("{} failed", of(self.failed)));
        }
        if self.warned > 0 {
            let missed = format!("{} missed its target (WARN)", of(self.warned));
            parts.push(if self.strict {
                format!("{missed}, which fails the run under --strict")
            } else if self.failed > 0 || self.aborted {
                missed
            } else {
                format!("{missed}: a warning, exit 0 unless --strict")
            });
        }
        if parts.is_empty() {
            return match self.slos {
                0 => "no SLOs to check".to_owned(),
                1 => "the SLO passed".to_owned(),
                n => format!("all {n} SLOs passed"),
            };
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::{Fail, Pass, Warn};

    #[test]
    fn the_four_states() {
        let pass = RunVerdict::judge([Pass, Pass], false, false, false);
        assert_eq!((pass.status, pass.exit_code), (Pass, 0));
        assert_eq!(pass.reason(), "all 2 SLOs passed");

        let warn = RunVerdict::judge([Pass, Warn], false, false, false);
        assert_eq!((warn.status, warn.exit_code), (Warn, 0));
        assert!(!warn.fails(Warn));
        assert_eq!(
            warn.reason(),
            "1 of 2 SLOs missed its target (WARN): a warning, exit 0 unless --strict"
        );

        let strict = RunVerdict::judge([Pass, Warn], true, false, false);
        assert_eq!((strict.status, strict.exit_code), (Fail, 4));
        assert!(strict.fails(Warn));
        assert_eq!(
            strict.reason(),
            "1 of 2 SLOs missed its target (WARN), which fails the run under --strict"
        );

        let fail = RunVerdict::judge([Fail], false, false, false);
        assert_eq!((fail.status, fail.exit_code), (Fail, 4));
        assert_eq!(fail.reason(), "the SLO failed");
    }

    #[test]
    fn an_abort_fails_and_an_interrupt_exits_130() {
        let aborted = RunVerdict::judge([Pass], false, true, false);
        assert_eq!((aborted.status, aborted.exit_code), (Fail, 4));
        let interrupted = RunVerdict::judge([Fail], false, false, true);
        assert_eq!((interrupted.status, interrupted.exit_code), (Fail, 130));
        let none = RunVerdict::judge([], true, false, false);
        assert_eq!(
            (none.status, none.reason().as_str()),
            (Pass, "no SLOs to check")
        );
    }
}
