//! Durations as plans write them: a number and a unit, optionally chained (`1m30s`).

use std::time::Duration;

const UNITS: [(&str, f64); 5] = [
    ("ms", 1e-3),
    ("s", 1.0),
    ("m", 60.0),
    ("h", 3600.0),
    ("us", 1e-6),
];

/// Parses `"250ms"`, `"3s"`, `"1.5s"`, `"5m"`, `"1h"`, `"1m30s"`, `"0s"`.
///
/// Units are required: a bare `5` is ambiguous between seconds and milliseconds, and
/// `"5 minutes"` is rejected rather than guessed at.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = "expected a number with a unit, such as `250ms`, `3s`, `5m`, `1h` or `1m30s`";
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("empty duration: {expected}"));
    }
    let mut rest = trimmed;
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration: {expected}"))?;
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(|| format!("`{text}` is not a duration: {expected}"))?;
        total += value * scale;
        rest = after;
    }
    if !total.is_finite() || total > 100.0 * 365.0 * 86_400.0 {
        return Err(format!("`{text}` is too long a duration"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// What a duration that did not parse probably meant, for a "did you mean" hint: a bare
/// number is seconds (as Locust's `-t 5`), a unit in words is its short form
/// (`5 minutes`, `5min` → `5m`). `None` when there is no likely reading.
pub(crate) fn suggest_duration(text: &str) -> Option<String> {
    let text = text.trim();
    let number_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, word) = text.split_at(number_len);
    number.parse::<f64>().ok()?;
    let word = word.trim().to_ascii_lowercase();
    let unit = [
        (
            "s",
            ["", "s", "sec", "secs", "second", "seconds"].as_slice(),
        ),
        (
            "ms",
            &["ms", "msec", "msecs", "millisecond", "milliseconds"],
        ),
        ("m", &["m", "min", "mins", "minute", "minutes"]),
        ("h", &["h", "hr", "hrs", "hour", "hours"]),
    ]
    .iter()
    .find(|(_, words)| words.contains(&word.as_str()))?
    .0;
    let suggestion = format!("{number}{unit}");
    (suggestion != text).then_some(suggestion)
}

/// Formats a duration the way plans write it, choosing the largest exact units
/// (`1m30s`, `250ms`, `2.5s` only where no exact form exists).
pub(crate) fn format_duration(duration: Duration) -> String {
    let micros = duration.as_micros();
    if micros == 0 {
        return "0s".to_owned();
    }
    if micros % 1_000_000 == 0 {
        let mut secs = (micros / 1_000_000) as u64;
        let mut out = String::new();
        let hours = secs / 3600;
        if hours > 0 {
            out.push_str(&format!("{hours}h"));
            secs %= 3600;
        }
        let minutes = secs / 60;
        if minutes > 0 {
            out.push_str(&format!("{minutes}m"));
            secs %= 60;
        }
        if secs > 0 {
            out.push_str(&format!("{secs}s"));
        }
        return out;
    }
    if micros % 1000 == 0 {
        let millis = micros / 1000;
        if millis < 1000 {
            return format!("{millis}ms");
        }
        return format!("{}s", millis as f64 / 1000.0);
    }
    format!("{micros}us")
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_a_unit_for_a_bare_number_or_one_in_words() {
        for (text, expected) in [
            ("5", Some("5s")),
            ("5 minutes", Some("5m")),
            ("5min", Some("5m")),
            ("1.5 hours", Some("1.5h")),
            ("250 ms", Some("250ms")),
            ("5s", None),
            ("five minutes", None),
            ("5 fortnights", None),
        ] {
            assert_eq!(super::suggest_duration(text).as_deref(), expected, "{text}");
        }
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_single_and_chained_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
    }

    #[test]
    fn rejects_prose_bare_numbers_and_unknown_units() {
        for bad in ["5 minutes", "5", "", "s", "5x", "1..2s", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn formats_with_the_largest_exact_units() {
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(millis in 0u64..10_000_000) {
            let duration = Duration::from_millis(millis);
            prop_assert_eq!(parse_duration(&format_duration(duration)), Ok(duration));
        }
    }
}
