//! `StatusSet`: the HTTP statuses a request accepts (`[201, 409]`, `"2xx"`, `[2xx, 409]`).

use std::fmt;

/// A set of accepted statuses, held as a bitmap over 100..=599 so the per-response
/// check is a single bit test.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusSet {
    bits: [u64; 8],
    text: String,
}

impl StatusSet {
    /// What a request accepts when the plan says nothing: 200 to 399, as Locust does.
    pub(crate) fn default_accepted() -> Self {
        Self::parse_items(["2xx", "3xx"].iter().map(|s| s.to_string()))
            .unwrap_or_else(|_| Self::empty())
    }

    fn empty() -> Self {
        Self {
            bits: [0; 8],
            text: String::new(),
        }
    }

    /// Parses items such as `201`, `"409"`, `"2xx"`, `"200-204"`.
    pub(crate) fn parse_items(items: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut set = Self::empty();
        let mut shown = Vec::new();
        for item in items {
            let item = item.trim().to_owned();
            let (low, high) = parse_item(&item)?;
            for status in low..=high {
                set.insert(status);
            }
            shown.push(item);
        }
        if shown.is_empty() {
            return Err(
                "an empty list accepts no status at all: expected e.g. `[201, 409]` or `2xx`"
                    .into(),
            );
        }
        set.text = shown.join(", ");
        Ok(set)
    }

    fn insert(&mut self, status: u16) {
        let offset = usize::from(status - 100);
        self.bits[offset / 64] |= 1 << (offset % 64);
    }

    pub(crate) fn contains(&self, status: u16) -> bool {
        if !(100..=599).contains(&status) {
            return false;
        }
        let offset = usize::from(status - 100);
        self.bits[offset / 64] & (1 << (offset % 64)) != 0
    }
}

fn parse_item(item: &str) -> Result<(u16, u16), String> {
    let expected =
        "expected a status such as `201`, a class such as `2xx`, or a range such as `200-204`";
    if let Some(class) = item.strip_suffix("xx").or_else(|| item.strip_suffix("XX")) {
        let digit: u16 = class
            .parse()
            .ok()
            .filter(|d| (1..=5).contains(d))
            .ok_or_else(|| format!("`{item}` is not a status class: {expected}"))?;
        return Ok((digit * 100, digit * 100 + 99));
    }
    let (low, high) = match item.split_once('-') {
        Some((low, high)) => (low.trim(), high.trim()),
        None => (item, item),
    };
    let parse = |text: &str| {
        text.parse::<u16>()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| format!("`{item}` is not an HTTP status: {expected}"))
    };
    let (low, high) = (parse(low)?, parse(high)?);
    if low > high {
        return Err(format!("`{item}` is an empty range: {expected}"));
    }
    Ok((low, high))
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusSet({})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> StatusSet {
        StatusSet::parse_items(items.iter().map(|s| s.to_string())).unwrap()
    }

    #[test]
    fn lists_classes_and_ranges() {
        let s = set(&["201", "409"]);
        assert!(s.contains(201) && s.contains(409));
        assert!(!s.contains(200) && !s.contains(500));
        let s = set(&["2xx", "409"]);
        assert!(s.contains(200) && s.contains(299) && s.contains(409) && !s.contains(300));
        let s = set(&["200-204"]);
        assert!(s.contains(204) && !s.contains(205));
        assert_eq!(s.to_string(), "200-204");
    }

    #[test]
    fn default_accepts_below_400() {
        let s = StatusSet::default_accepted();
        assert!(s.contains(200) && s.contains(302) && !s.contains(404) && !s.contains(500));
        assert!(!s.contains(0) && !s.contains(1000));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["6xx", "abc", "99", "600", "300-200"] {
            assert!(StatusSet::parse_items([bad.to_string()]).is_err(), "{bad}");
        }
        assert!(StatusSet::parse_items(Vec::<String>::new()).is_err());
    }
}
