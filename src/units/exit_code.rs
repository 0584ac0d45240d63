//! Exit codes are API for CI scripts: never renumbered.

/// Every SLO passed.
pub const OK: u8 = 0;
/// Something unexpected went wrong (the message says what).
pub const ERROR: u8 = 1;
/// The command line is wrong (clap's code).
pub const USAGE: u8 = 2;
/// The plan is invalid; nothing was sent.
pub const PLAN_INVALID: u8 = 3;
/// The run finished and at least one critical SLO failed (or, with `--strict`, a
/// target was missed), or an `abort` SLO stopped it early.
pub const SLO_BREACHED: u8 = 4;
/// The target did not answer the preflight request; the load was not started.
pub const PREFLIGHT_FAILED: u8 = 5;
/// Interrupted by Ctrl-C, SIGTERM, SIGHUP or SIGQUIT; the results gathered so far
/// were written.
pub(crate) const INTERRUPTED: u8 = 130;
