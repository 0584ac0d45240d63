//! `StayDates`: a validated half-open stay `[check_in, check_out)` of at least one night.

use chrono::NaiveDate;

/// A stay from `check_in` (inclusive) to `check_out` (exclusive); `check_in < check_out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StayDates {
    pub(crate) check_in: NaiveDate,
    pub(crate) check_out: NaiveDate,
}

/// Dates missing, not `YYYY-MM-DD`, or with `check_out <= check_in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid_dates")]
pub(crate) struct InvalidDates;

impl StayDates {
    /// Parses two `YYYY-MM-DD` dates, as sent in queries and bodies.
    pub(super) fn parse(
        check_in: Option<&str>,
        check_out: Option<&str>,
    ) -> Result<StayDates, InvalidDates> {
        let check_in = parse_date(check_in.ok_or(InvalidDates)?)?;
        let check_out = parse_date(check_out.ok_or(InvalidDates)?)?;
        if check_out > check_in {
            Ok(StayDates {
                check_in,
                check_out,
            })
        } else {
            Err(InvalidDates)
        }
    }

    /// Number of nights, at least 1.
    pub(crate) fn nights(&self) -> u64 {
        // check_out > check_in, so the difference is positive.
        (self.check_out - self.check_in).num_days().unsigned_abs()
    }

    /// Whether the two half-open stays share a night; back-to-back stays do not.
    pub(crate) fn overlaps(&self, other: &StayDates) -> bool {
        self.check_in < other.check_out && other.check_in < self.check_out
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, InvalidDates> {
    // chrono accepts unpadded fields and signed years; the API promises exactly YYYY-MM-DD.
    let shape_ok = text.len() == 10
        && text.bytes().enumerate().all(|(i, byte)| match i {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(InvalidDates);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| InvalidDates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stay(check_in: &str, check_out: &str) -> StayDates {
        StayDates::parse(Some(check_in), Some(check_out)).unwrap()
    }

    #[test]
    fn parses_valid_stays_and_counts_nights() {
        let dates = stay("2025-02-27", "2025-03-02");
        assert_eq!(dates.check_in.to_string(), "2025-02-27");
        assert_eq!(dates.check_out.to_string(), "2025-03-02");
        assert_eq!(dates.nights(), 3);
        assert_eq!(stay("2024-12-31", "2025-01-01").nights(), 1);
    }

    #[test]
    fn rejects_missing_malformed_and_non_increasing_dates() {
        let cases = [
            (None, Some("2025-01-02")),
            (Some("2025-01-01"), None),
            (Some("2025-1-1"), Some("2025-01-02")),
            (Some("01/01/2025"), Some("2025-01-02")),
            (Some("2025-02-30"), Some("2025-03-02")),
            (Some("2025-01-01"), Some("2025-01-01")),
            (Some("2025-01-05"), Some("2025-01-01")),
            (Some("2025-01-01T00:00"), Some("2025-01-02")),
            (Some(""), Some("2025-01-02")),
        ];
        for (check_in, check_out) in cases {
            assert_eq!(
                StayDates::parse(check_in, check_out),
                Err(InvalidDates),
                "{check_in:?} {check_out:?}"
            );
        }
    }

    #[test]
    fn overlap_is_half_open() {
        let base = stay("2025-01-10", "2025-01-15");
        assert!(base.overlaps(&stay("2025-01-10", "2025-01-15")));
        assert!(base.overlaps(&stay("2025-01-12", "2025-01-13")));
        assert!(base.overlaps(&stay("2025-01-08", "2025-01-11")));
        assert!(base.overlaps(&stay("2025-01-14", "2025-01-20")));
        assert!(base.overlaps(&stay("2025-01-01", "2025-01-31")));
        assert!(!base.overlaps(&stay("2025-01-05", "2025-01-10")));
        assert!(!base.overlaps(&stay("2025-01-15", "2025-01-16")));
    }
}
