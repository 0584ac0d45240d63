//! `FailureLog`: the failures a run meets, as a few stderr lines rather than one per
//! request. The first occurrence of each reason is shown at once; after that, each
//! `EVERY` the reasons that recurred get one line with their count, and the end of the
//! run gives the rest. A target that refuses 10,000 requests a second costs one line.
//!
//! Pure state: the recorder feeds it failures and clock ticks and prints what it returns.
//! Reasons are scrubbed of the plan's secrets as they come in (a rendered path in a
//! template error may hold one), so no line it returns can show them.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::compile::Secrets;
use crate::engine::Failure;
use crate::units::{format_duration, printable};

/// How often a recurring reason is summarised.
pub(crate) const EVERY: Duration = Duration::from_secs(10);

/// Distinct reasons logged apart; messages that vary per request (a rendered path in a
/// template error) would otherwise make a line each. Further ones share one line.
const MAX_REASONS: usize = 50;

#[derive(Debug, Default)]
struct ReasonCount {
    total: u64,
    /// Occurrences since the last line about this reason.
    unreported: u64,
}

/// Counts failures by reason and decides which lines to print.
#[derive(Debug, Default)]
pub(crate) struct FailureLog {
    reasons: BTreeMap<String, ReasonCount>,
    last_summary: Duration,
    secrets: Secrets,
}

impl FailureLog {
    /// A log whose lines never show the values of `secrets`.
    pub(super) fn new(secrets: Secrets) -> Self {
        Self {
            secrets,
            ..Self::default()
        }
    }

    /// Notes a failure of request `name` at `at` into the run; returns a line to print on
    /// the first occurrence of its reason.
    pub(crate) fn record(&mut self, name: &str, failure: &Failure, at: Duration) -> Option<String> {
        // Keyed by the category and message (`connect: connection refused…`), so two
        // requests failing for the same reason share a line.
        // Shown on a terminal: a reason or name quoting a response cannot act on it.
        let mut reason = printable(&self.secrets.scrub(&reason_text(failure))).into_owned();
        if self.reasons.len() >= MAX_REASONS && !self.reasons.contains_key(&reason) {
            reason = format!("other reasons (more than {MAX_REASONS} distinct ones)");
        }
        let first_of_its_kind = !self.reasons.contains_key(&reason);
        let count = self.reasons.entry(reason.clone()).or_default();
        count.total += 1;
        if !first_of_its_kind {
            count.unreported += 1;
            return None;
        }
        let line = format!(
            "failure at {}: {reason} ({}); repeats are counted, summarised every {}",
            clock(at),
            printable(name),
            format_duration(EVERY)
        );
        Some(self.secrets.scrub(&line))
    }

    /// Called as time passes: at most every `EVERY`, a line per reason that recurred.
    pub(crate) fn tick(&mut self, now: Duration) -> Vec<String> {
        if now < self.last_summary + EVERY {
            return Vec::new();
        }
        let since = self.last_summary;
        self.last_summary = now;
        self.drain(|count| format!("{count} more between {} and {}", clock(since), clock(now)))
    }

    /// At the end of the run: a line per reason with occurrences not yet reported.
    pub(super) fn finish(&mut self) -> Vec<String> {
        let since = self.last_summary;
        self.drain(|count| format!("{count} more since {}", clock(since)))
    }

    fn drain(&mut self, describe: impl Fn(u64) -> String) -> Vec<String> {
        self.reasons
            .iter_mut()
            .filter(|(_, count)| count.unreported > 0)
            .map(|(reason, count)| {
                let line = format!(
                    "failure: {reason}: {} ({} in all)",
                    describe(count.unreported),
                    count.total
                );
                count.unreported = 0;
                line
            })
            .collect()
    }
}

/// The category first, as in the summary's `failures[].category`, then the message
/// when it says more.
fn reason_text(failure: &Failure) -> String {
    let message = failure.to_string();
    if message == failure.category() {
        message
    } else {
        format!("{}: {message}", failure.category())
    }
}

/// `12.3s` into the run.
fn clock(at: Duration) -> String {
    format!("{:.1}s", at.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn one_line_per_reason_then_counts() {
        let mut log = FailureLog::default();
        let first = log.record("health", &Failure::Connect, secs(0));
        assert_eq!(
            first.as_deref(),
            Some(
                "failure at 0.0s: connect: connection refused or unreachable (health); \
                 repeats are counted, summarised every 10s"
            )
        );
        for _ in 0..999 {
            assert_eq!(log.record("list", &Failure::Connect, secs(1)), None);
        }
        assert!(log.record("health", &Failure::Timeout, secs(2)).is_some());
        assert!(log.tick(secs(5)).is_empty(), "not yet {EVERY:?}");
        assert_eq!(
            log.tick(secs(10)),
            vec![
                "failure: connect: connection refused or unreachable: 999 more \
                 between 0.0s and 10.0s (1000 in all)"
            ]
        );
        assert!(log.tick(secs(20)).is_empty(), "nothing new, nothing said");
        log.record("health", &Failure::Timeout, secs(21));
        assert_eq!(
            log.finish(),
            vec!["failure: timeout: 1 more since 20.0s (2 in all)"]
        );
        assert!(log.finish().is_empty());
    }

    #[test]
    fn lines_never_show_a_secret() {
        let mut log = FailureLog::new(Secrets::new([("TOKEN", "tok-12345")]));
        let failure = Failure::Template("`:1/tok-12345` does not make a valid URL".into());
        let first = log.record("t", &failure, secs(0)).unwrap_or_default();
        assert!(
            first.contains("`:1/[redacted]` does not make a valid URL"),
            "{first}"
        );
        log.record("t", &failure, secs(1));
        let rest = log.finish().join("\n");
        assert!(
            rest.contains("[redacted]") && !rest.contains("tok-12345"),
            "{rest}"
        );
    }

    #[test]
    fn lines_show_control_characters_escaped() {
        let mut log = FailureLog::default();
        let failure = Failure::Other("bad\u{1b}[2J\r\nfailure at 0.0s: forged".into());
        let line = log
            .record("a\u{1b}]0;t\u{7}\u{202e}", &failure, secs(0))
            .unwrap();
        for c in ['\u{1b}', '\u{7}', '\u{202e}', '\r', '\n'] {
            assert!(!line.contains(c), "{c:?} in {line:?}");
        }
        assert!(
            line.contains(r"bad\e[2J\r\nfailure at 0.0s: forged"),
            "{line}"
        );
        assert!(line.contains(r"(a\e]0;t\a\u{202e})"), "{line}");
        log.record("a", &failure, secs(1));
        let rest = log.finish().join("\n");
        assert!(!rest.contains('\u{1b}') && !rest.contains('\r'), "{rest:?}");
    }

    #[test]
    fn reasons_that_vary_per_request_share_a_line_past_the_cap() {
        let mut log = FailureLog::default();
        let lines = (0..1000)
            .filter_map(|i| {
                let failure = Failure::Template(format!("`/a/{i}` does not make a valid URL"));
                log.record("t", &failure, secs(1))
            })
            .count();
        assert_eq!(lines, MAX_REASONS + 1);
        assert_eq!(
            log.finish(),
            vec![
                "failure: other reasons (more than 50 distinct ones): 949 more since 0.0s (950 in all)"
            ]
        );
    }
}
