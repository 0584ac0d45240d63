//! `ByteSize`: an amount of bytes as plans write it (`"512KiB"`, `"1MiB"`, `"4MB"`,
//! `"2000000"`).

use std::fmt;

/// A number of bytes. Parsed from a whole number (bytes) or a number and a unit:
/// `KiB`, `MiB`, `GiB` count in 1024s, `kB`, `MB`, `GB` in 1000s, `B` is bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(u64);

/// Largest first: `Display` writes the first unit that divides the value exactly.
const UNITS: [(&str, u64); 7] = [
    ("GiB", 1 << 30),
    ("GB", 1_000_000_000),
    ("MiB", 1 << 20),
    ("MB", 1_000_000),
    ("KiB", 1 << 10),
    ("kB", 1000),
    ("B", 1),
];

/// No size a plan names is near this; more is a typo (and would overflow a `usize`).
const MAX_BYTES: u128 = 1 << 50;

impl ByteSize {
    pub const fn bytes(bytes: u64) -> Self {
        Self(bytes)
    }

    pub const fn kib(kib: u64) -> Self {
        Self(kib << 10)
    }

    pub const fn mib(mib: u64) -> Self {
        Self(mib << 20)
    }

    /// The size as a buffer length. Parsed sizes are below 2^50, so this never saturates
    /// on a 64-bit machine.
    pub(crate) fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }

    /// Parses `"512KiB"`, `"1MiB"`, `"1.5MiB"`, `"4MB"`, `"2000000"`, `"64 KiB"`.
    ///
    /// The number may have a decimal part when the result is a whole number of bytes
    /// (`1.5MiB`, not `0.1KiB`); it is computed exactly, never through a float.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = "expected a whole number of bytes or a number with a unit \
                        (`B`, `KiB`, `MiB`, `GiB`, `kB`, `MB`, `GB`), such as `512KiB`, \
                        `1MiB`, `4MB` or `2000000`";
        let not_a_size = || format!("`{text}` is not a size: {expected}");
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(format!("empty size: {expected}"));
        }
        let number_len = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(number_len);
        let unit = unit.trim_start();
        let scale = if unit.is_empty() {
            1
        } else {
            UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|(_, scale)| *scale)
                .ok_or_else(|| format!("`{text}` has an unknown unit `{unit}`: {expected}"))?
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(not_a_size());
        }
        // Digits beyond these do not fit a u128; no size a plan names has them.
        if whole.len() > 20 || fraction.len() > 20 {
            return Err(format!("`{text}` is too large a size"));
        }
        let whole: u128 = whole.parse().map_err(|_| not_a_size())?;
        let fraction_value: u128 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| not_a_size())?
        };
        let denominator = 10u128.pow(fraction.len() as u32);
        let scale = u128::from(scale);
        let fraction_bytes = fraction_value * scale;
        if fraction_bytes % denominator != 0 {
            return Err(format!("`{text}` is not a whole number of bytes"));
        }
        let total = whole
            .checked_mul(scale)
            .and_then(|bytes| bytes.checked_add(fraction_bytes / denominator))
            .filter(|bytes| *bytes <= MAX_BYTES)
            .ok_or_else(|| format!("`{text}` is too large a size"))?;
        Ok(Self(total as u64))
    }
}

impl fmt::Display for ByteSize {
    /// In the largest unit that divides the size exactly: `64KiB`, `4MB`, `1500B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, scale) = UNITS
            .iter()
            .find(|(_, scale)| self.0 % scale == 0 && self.0 >= *scale)
            .copied()
            .unwrap_or(("B", 1));
        write!(f, "{}{name}", self.0 / scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Result<u64, String> {
        ByteSize::parse(text).map(|size| size.0)
    }

    #[test]
    fn parses_binary_and_decimal_units_and_bare_bytes() {
        assert_eq!(parse("512KiB"), Ok(512 * 1024));
        assert_eq!(parse("1MiB"), Ok(1 << 20));
        assert_eq!(parse("2GiB"), Ok(2 << 30));
        assert_eq!(parse("64kB"), Ok(64_000));
        assert_eq!(parse("4MB"), Ok(4_000_000));
        assert_eq!(parse("1GB"), Ok(1_000_000_000));
        assert_eq!(parse("2000000"), Ok(2_000_000));
        assert_eq!(parse("1500B"), Ok(1500));
        assert_eq!(parse(" 64 KiB "), Ok(64 * 1024));
        assert_eq!(parse("0"), Ok(0));
    }

    #[test]
    fn decimals_are_exact_and_must_come_to_whole_bytes() {
        assert_eq!(parse("1.5MiB"), Ok(3 << 19));
        assert_eq!(parse("0.3MB"), Ok(300_000));
        assert_eq!(parse("2.25KiB"), Ok(2304));
        assert_eq!(parse("1."), Ok(1));
        assert_eq!(
            parse("0.1KiB"),
            Err("`0.1KiB` is not a whole number of bytes".to_owned())
        );
        assert!(parse("1.5").is_err(), "a fraction of a byte");
    }

    #[test]
    fn rejects_unknown_units_prose_and_signs() {
        for bad in [
            "",
            "KiB",
            "1 megabyte",
            "4mb",
            "4KB",
            "1MiB2",
            "-1KiB",
            "+1KiB",
            "1e6",
            ".5MiB",
            "1..2KiB",
            "1 2",
            "x",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            parse("4mb").unwrap_err(),
            "`4mb` has an unknown unit `mb`: expected a whole number of bytes or a number \
             with a unit (`B`, `KiB`, `MiB`, `GiB`, `kB`, `MB`, `GB`), such as `512KiB`, \
             `1MiB`, `4MB` or `2000000`"
        );
    }

    #[test]
    fn rejects_sizes_too_large_to_mean_anything() {
        assert!(parse("2000000GiB").is_err());
        assert!(parse("99999999999999999999999999GiB").is_err());
        assert_eq!(parse("1048576GiB"), Ok(1 << 50));
    }

    #[test]
    fn displays_in_the_largest_exact_unit() {
        assert_eq!(ByteSize::mib(1).to_string(), "1MiB");
        assert_eq!(ByteSize::kib(64).to_string(), "64KiB");
        assert_eq!(ByteSize::kib(1536).to_string(), "1536KiB");
        assert_eq!(ByteSize::bytes(4_000_000).to_string(), "4MB");
        assert_eq!(ByteSize::bytes(1500).to_string(), "1500B");
        assert_eq!(ByteSize::bytes(0).to_string(), "0B");
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(bytes in 0u64..(1 << 40)) {
            let size = ByteSize::bytes(bytes);
            prop_assert_eq!(ByteSize::parse(&size.to_string()), Ok(size));
        }

        #[test]
        fn every_unit_scales_whole_numbers(n in 0u64..100_000, unit in 0usize..UNITS.len()) {
            let (name, scale) = UNITS[unit];
            prop_assert_eq!(parse(&format!("{n}{name}")), Ok(n * scale));
        }
    }
}
