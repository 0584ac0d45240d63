//! Percentages as plans write them (`"1%"`, `"0.5%"`), as fractions in 0..=1.

/// Parses `"1%"` to `0.01`. The `%` sign is required so that `1` is never mistaken for 100 %.
pub(crate) fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().strip_suffix('%').ok_or_else(|| {
        format!("`{text}` is not a percentage: expected a number and `%`, such as `1%`")
    })?;
    let value: f64 = number.trim().parse().map_err(|_| {
        format!("`{text}` is not a percentage: expected a number and `%`, such as `1%`")
    })?;
    if !(0.0..=100.0).contains(&value) {
        return Err(format!("`{text}` is outside 0% to 100%"));
    }
    Ok(value / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_percentages_as_fractions() {
        assert_eq!(parse_percent("1%"), Ok(0.01));
        assert_eq!(parse_percent("0.5%"), Ok(0.005));
        assert!(parse_percent("1").is_err());
        assert!(parse_percent("120%").is_err());
    }
}
