//! `Rate`: events per unit of time, as plans write it (`"10/s"`, `"1000/min"`, `"2.5/s"`).

use std::fmt;

/// A rate in events per second. Parsed from `N/s`, `N/min`, `N/h` (also `N/sec`, `N/m`,
/// `N/hour`); a bare number means per second, as in Locust's `--spawn-rate 10`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate {
    per_second: f64,
}

const UNITS: [(&str, f64); 8] = [
    ("s", 1.0),
    ("sec", 1.0),
    ("second", 1.0),
    ("m", 60.0),
    ("min", 60.0),
    ("minute", 60.0),
    ("h", 3600.0),
    ("hour", 3600.0),
];

impl Rate {
    /// The fastest rate a plan may ask for, all its arrival streams together (and the
    /// fastest `spawn-rate`): a million a second. One dispatcher task sends every arrival
    /// of a run, at about a microsecond each in a release build, so past this it could not
    /// keep the schedule and the run would measure planrun, not the target
    /// (docs/robustness.md).
    pub(crate) const MAX_PER_SECOND: f64 = 1_000_000.0;
    /// `MAX_PER_SECOND` as messages write it.
    pub(crate) const MAX_TEXT: &str = "1,000,000/s";
    /// Why there is a limit, and what to do instead.
    pub(crate) const MAX_WHY: &str =
        "one planrun process cannot send more on time; split the load over several processes";

    pub(crate) fn per_second(per_second: f64) -> Self {
        Self { per_second }
    }

    pub(crate) fn as_per_second(self) -> f64 {
        self.per_second
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = "expected a positive number per unit, such as `10/s`, `1000/min` or `2.5/s`";
        let trimmed = text.trim();
        let (number, per) = match trimmed.split_once('/') {
            Some((number, unit)) => {
                let unit = unit.trim();
                let seconds = UNITS
                    .iter()
                    .find(|(name, _)| *name == unit)
                    .map(|(_, seconds)| *seconds)
                    .ok_or_else(|| {
                        format!("`{text}` has an unknown time unit `{unit}`: {expected}")
                    })?;
                (number.trim(), seconds)
            }
            None => (trimmed, 1.0),
        };
        let count: f64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a rate: {expected}"))?;
        if !count.is_finite() || count <= 0.0 {
            return Err(format!("`{text}` is not a positive rate: {expected}"));
        }
        let per_second = count / per;
        // Slower than this is a typo, and its interval (or a ramp at it) would not fit
        // in a `Duration`.
        if per_second < MIN_PER_SECOND {
            return Err(format!("`{text}` is slower than one a day: {expected}"));
        }
        if per_second > Self::MAX_PER_SECOND {
            return Err(format!(
                "`{text}` is over the limit of {}: {}",
                Self::MAX_TEXT,
                Self::MAX_WHY
            ));
        }
        Ok(Self { per_second })
    }
}

/// The slowest rate a plan may ask for: one a day.
const MIN_PER_SECOND: f64 = 1.0 / 86_400.0;

impl fmt::Display for Rate {
    /// Per second when that is a whole or a short decimal, otherwise per minute.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_minute = self.per_second * 60.0;
        if self.per_second >= 1.0 || (per_minute - per_minute.round()).abs() > 1e-9 {
            write!(f, "{}/s", trim_float(self.per_second))
        } else {
            write!(f, "{}/min", trim_float(per_minute))
        }
    }
}

fn trim_float(value: f64) -> String {
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(Rate::parse("10/s").unwrap().as_per_second(), 10.0);
        assert_eq!(Rate::parse("10").unwrap().as_per_second(), 10.0);
        assert!((Rate::parse("1000/min").unwrap().as_per_second() - 16.666_666).abs() < 1e-3);
        assert_eq!(Rate::parse("2.5/s").unwrap().as_per_second(), 2.5);
        assert_eq!(Rate::parse("1/min").unwrap().to_string(), "1/min");
        assert_eq!(Rate::parse("3600/h").unwrap().as_per_second(), 1.0);
    }

    #[test]
    fn rejects_zero_negative_and_unknown_units() {
        for bad in [
            "0/s",
            "-1/s",
            "10/fortnight",
            "fast",
            "",
            "7.5e-309/s",
            "1e-6/s",
            "1e12/s",
            "1e300/s",
            "1000001/s",
            "60000001/min",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn the_bound_itself_is_accepted() {
        assert_eq!(
            Rate::parse("1000000/s").unwrap().as_per_second(),
            Rate::MAX_PER_SECOND
        );
        assert!(Rate::parse("1e12/s").unwrap_err().contains("1,000,000/s"));
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(per_minute in 1u32..1_000_000) {
            let rate = Rate::per_second(f64::from(per_minute) / 60.0);
            let again = Rate::parse(&rate.to_string()).unwrap();
            prop_assert!((again.as_per_second() - rate.as_per_second()).abs() < 1e-6 * rate.as_per_second().max(1.0));
        }
    }
}
