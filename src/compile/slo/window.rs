//! `Over`: the stretch of the run an SLO is measured over, and the check forms that name
//! one. The whole run (`p95 < 3s`), every sliding window (`error-rate < 5% over any 30s`),
//! one stage (`during: spike-hold`, a key beside the check), or the growth from the first
//! to the last minutes after a warm-up (`p95 drift < 30% first 10m vs last 10m after 5m`).

use std::fmt;
use std::time::Duration;

use super::threshold::{Comparison, SloMeasure, Threshold};
use crate::units::{format_duration, parse_duration, parse_percent};

/// What part of the run an SLO measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Over {
    /// The whole run.
    Run,
    /// Every window of this length (sliding by a second, or by 1/60 of the window when
    /// longer than a minute); the worst one decides.
    AnyWindow(Duration),
    /// Requests completed during the named stage.
    Stage {
        name: String,
        start: Duration,
        end: Duration,
    },
    /// `(last − first) / first` of the metric, over the first `first` after `after` and
    /// the last `last` of the run. The threshold is that fraction.
    Drift {
        first: Duration,
        last: Duration,
        after: Duration,
    },
}

impl Over {
    /// Evaluated while the run goes on (the recorder keeps its windows).
    pub(crate) fn is_time_aware(&self) -> bool {
        !matches!(self, Over::Run)
    }
}

impl fmt::Display for Over {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Over::Run => Ok(()),
            Over::AnyWindow(d) => write!(f, " over any {}", format_duration(*d)),
            Over::Stage { name, .. } => write!(f, " during {name}"),
            Over::Drift { first, last, after } => {
                write!(
                    f,
                    " first {} vs last {}",
                    format_duration(*first),
                    format_duration(*last)
                )?;
                if !after.is_zero() {
                    write!(f, " after {}", format_duration(*after))?;
                }
                Ok(())
            }
        }
    }
}

const DRIFT_EXPECTED: &str = "expected `METRIC drift < PERCENT first DURATION vs last DURATION [after DURATION]`, e.g. `p95 drift < 30% first 10m vs last 10m after 5m`";

/// Parses a check with its optional `over any D` or drift form.
pub fn parse_check(text: &str) -> Result<(Threshold, Over), String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.get(1) == Some(&"drift") {
        return parse_drift(&words);
    }
    if let Some(at) = words.iter().position(|w| *w == "over") {
        let (check, rest) = words.split_at(at);
        let window = match rest {
            ["over", "any", d] => parse_duration(d)?,
            _ => {
                return Err(
                    "expected `over any DURATION` after the check, e.g. `error-rate < 5% over any 30s`"
                        .into(),
                );
            }
        };
        if window < Duration::from_secs(1) {
            return Err("a window must last at least 1s".into());
        }
        let threshold = Threshold::parse(&check.join(" "))?;
        if threshold.measure == SloMeasure::Recovery {
            return Err("`recovery` is measured once, after the load: it has no windows".into());
        }
        return Ok((threshold, Over::AnyWindow(window)));
    }
    Ok((Threshold::parse(text)?, Over::Run))
}

fn parse_drift(words: &[&str]) -> Result<(Threshold, Over), String> {
    let (metric, op, value, first, last, after) = match words {
        [m, "drift", op, v, "first", f, "vs", "last", l] => (m, op, v, f, l, None),
        [m, "drift", op, v, "first", f, "vs", "last", l, "after", a] => (m, op, v, f, l, Some(a)),
        _ => return Err(DRIFT_EXPECTED.into()),
    };
    // The metric and comparison parse as an ordinary latency check.
    let base = Threshold::parse(&format!("{metric} {op} 1s"))?;
    if !base.measure.is_latency() {
        return Err(format!(
            "drift compares latencies (`p95`, `mean`, `max`), not `{metric}`"
        ));
    }
    if !matches!(base.comparison, Comparison::Below | Comparison::AtMost) {
        return Err(format!(
            "drift is bounded from above: use `<` or `<=`, not `{op}`"
        ));
    }
    let threshold = Threshold {
        value: parse_percent(value)?,
        ..base
    };
    let first = parse_duration(first)?;
    let last = parse_duration(last)?;
    let after = after
        .map(|a| parse_duration(a))
        .transpose()?
        .unwrap_or_default();
    if first.is_zero() || last.is_zero() {
        return Err(DRIFT_EXPECTED.into());
    }
    Ok((threshold, Over::Drift { first, last, after }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_windows_and_drift() {
        let (t, over) = parse_check("error-rate < 5% over any 30s").unwrap();
        assert_eq!(t.measure, SloMeasure::ErrorRate);
        assert_eq!(t.value, 0.05);
        assert_eq!(over, Over::AnyWindow(Duration::from_secs(30)));

        let (t, over) = parse_check("p95 drift < 30% first 10m vs last 10m after 5m").unwrap();
        assert_eq!(t.measure, SloMeasure::Percentile(95.0));
        assert_eq!(t.value, 0.3);
        assert_eq!(
            over,
            Over::Drift {
                first: Duration::from_secs(600),
                last: Duration::from_secs(600),
                after: Duration::from_secs(300)
            }
        );
        assert_eq!(
            over.to_string(),
            " first 10m vs last 10m after 5m",
            "displays as written"
        );
        assert_eq!(parse_check("p95 < 3s").unwrap().1, Over::Run);
    }

    #[test]
    fn rejects_half_written_forms() {
        for bad in [
            "p95 < 5s over 1m",
            "p95 < 5s over any",
            "p95 < 5s over any 500ms",
            "error-rate drift < 30% first 10m vs last 10m",
            "p95 drift > 30% first 10m vs last 10m",
            "p95 drift < 30% first 10m",
            "recovery < 5m over any 1m",
        ] {
            assert!(parse_check(bad).is_err(), "{bad}");
        }
    }
}
