//! `HitCounts`: a snapshot of how many responses each endpoint gave, by status code.
//!
//! This is the value returned by [`super::SampleApi::hits`] and served as JSON at
//! `GET /__planrun/hits`. Only endpoints and statuses that were actually answered appear.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Responses given per endpoint id (`"health"`, `"prereserve"`, …, `"not_found"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HitCounts {
    /// Endpoint id → its counters; endpoints never hit are absent.
    pub(crate) endpoints: BTreeMap<String, EndpointHits>,
    /// Business events by name (`prereserve.created`, `prereserve.overlap`,
    /// `whatsapp.signature_ok`, `auth.rejected`, …); events that never happened are absent.
    #[serde(default)]
    pub(crate) events: BTreeMap<String, u64>,
}

/// Responses given by one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct EndpointHits {
    /// All responses of this endpoint; always the sum of `by_status`.
    pub(crate) total: u64,
    /// HTTP status code → number of responses with it.
    pub(crate) by_status: BTreeMap<u16, u64>,
}

impl HitCounts {
    /// All counted responses, over every endpoint.
    pub fn total(&self) -> u64 {
        self.endpoints.values().map(|hits| hits.total).sum()
    }

    /// How many times the business event `name` happened.
    pub fn event(&self, name: &str) -> u64 {
        self.events.get(name).copied().unwrap_or_default()
    }

    /// Counted responses of `endpoint` (an id such as `"prereserve"`); 0 if never hit.
    pub fn count(&self, endpoint: &str) -> u64 {
        self.endpoints.get(endpoint).map_or(0, |hits| hits.total)
    }
}

/// A small table, one row per endpoint, as printed when `planrun sample-api` stops.
impl fmt::Display for HitCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<20} {:>10}  by status", "endpoint", "requests")?;
        for (id, hits) in &self.endpoints {
            let statuses: Vec<String> = hits
                .by_status
                .iter()
                .map(|(status, count)| format!("{status}: {count}"))
                .collect();
            writeln!(f, "{id:<20} {:>10}  {}", hits.total, statuses.join(", "))?;
        }
        writeln!(f, "{:<20} {:>10}", "total", self.total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> HitCounts {
        let mut counts = HitCounts::default();
        counts.endpoints.insert(
            "prereserve".to_string(),
            EndpointHits {
                total: 5,
                by_status: BTreeMap::from([(201, 3), (409, 2)]),
            },
        );
        counts.endpoints.insert(
            "health".to_string(),
            EndpointHits {
                total: 7,
                by_status: BTreeMap::from([(200, 7)]),
            },
        );
        counts
    }

    #[test]
    fn total_and_count_sum_the_right_counters() {
        let counts = sample();
        assert_eq!(counts.total(), 12);
        assert_eq!(counts.count("prereserve"), 5);
        assert_eq!(counts.count("health"), 7);
        assert_eq!(counts.count("availability"), 0);
        assert_eq!(HitCounts::default().total(), 0);
    }

    #[test]
    fn json_round_trip_keeps_status_keys() {
        let counts = sample();
        let json = serde_json::to_string(&counts).unwrap();
        assert!(json.contains(r#""201":3"#), "{json}");
        let back: HitCounts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, counts);
    }

    #[test]
    fn table_has_a_row_per_endpoint_and_a_total() {
        let table = sample().to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[1].starts_with("health") && lines[1].ends_with("200: 7"));
        assert!(lines[2].starts_with("prereserve") && lines[2].ends_with("201: 3, 409: 2"));
        assert!(lines[3].starts_with("total") && lines[3].ends_with("12"));
    }
}
