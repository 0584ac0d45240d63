//! `Threshold`: an SLO as people say it, `p95 < 3s`, `error-rate < 1%`, `throughput > 200/s`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::units::{Rate, format_duration, parse_duration, parse_percent};

/// What an SLO measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SloMeasure {
    /// Latency at a percentile (0..=100), e.g. 95 or 99.9.
    Percentile(f64),
    /// Service time (sent → answered) at a percentile: `service-p95`. Differs from the
    /// latency in open-model runs, where latency counts from the intended send instant.
    ServicePercentile(f64),
    Mean,
    Max,
    /// Failed requests over all requests.
    ErrorRate,
    /// Requests per second over the whole run.
    Throughput,
    /// A business metric's rate: outcomes over attempts, as a fraction.
    Rate,
    /// A business metric's count of outcomes.
    Count,
    /// From the end of the load until the recovery probe succeeded (`load.recovery`).
    Recovery,
}

/// The unit of an SLO's measured value and threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Unit {
    /// A latency, in microseconds.
    #[serde(rename = "us")]
    Microseconds,
    /// A share in 0..=1 (error rates, business rates).
    #[serde(rename = "fraction")]
    Fraction,
    /// Events per second.
    #[serde(rename = "per_s")]
    PerSecond,
    /// A number of occurrences (business counts).
    #[serde(rename = "count")]
    Count,
}

impl SloMeasure {
    pub(crate) fn unit(self) -> Unit {
        match self {
            SloMeasure::Percentile(_)
            | SloMeasure::ServicePercentile(_)
            | SloMeasure::Mean
            | SloMeasure::Max
            | SloMeasure::Recovery => Unit::Microseconds,
            SloMeasure::ErrorRate | SloMeasure::Rate => Unit::Fraction,
            SloMeasure::Throughput => Unit::PerSecond,
            SloMeasure::Count => Unit::Count,
        }
    }

    /// Measured in microseconds of request latency.
    pub(crate) fn is_latency(self) -> bool {
        matches!(
            self,
            SloMeasure::Percentile(_)
                | SloMeasure::ServicePercentile(_)
                | SloMeasure::Mean
                | SloMeasure::Max
        )
    }
}

/// How the measured value must compare to the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Below,
    AtMost,
    Above,
    AtLeast,
}

impl Comparison {
    pub(crate) fn holds(self, measured: f64, threshold: f64) -> bool {
        match self {
            Comparison::Below => measured < threshold,
            Comparison::AtMost => measured <= threshold,
            Comparison::Above => measured > threshold,
            Comparison::AtLeast => measured >= threshold,
        }
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
        }
    }
}

/// A parsed SLO check. Latency values are in microseconds, rates in events per second,
/// error rates as fractions in 0..=1.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub(crate) measure: SloMeasure,
    pub(crate) comparison: Comparison,
    pub(crate) value: f64,
    /// The time unit a rate was written per (`1000/min`): reports show the threshold and
    /// the measured value per it. Per second for everything else.
    pub(crate) per: RateUnit,
}

/// The time unit of a rate as the plan wrote it. Values are compared per second; this
/// only changes how they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateUnit {
    #[default]
    Second,
    Minute,
    Hour,
}

impl RateUnit {
    /// The unit of `text` (`1000/min`, `2/sec`, `5`): per second unless it names another.
    fn written_in(text: &str) -> Self {
        match text.split_once('/').map(|(_, unit)| unit.trim()) {
            Some("m" | "min" | "minute") => RateUnit::Minute,
            Some("h" | "hour") => RateUnit::Hour,
            _ => RateUnit::Second,
        }
    }

    fn seconds(self) -> f64 {
        match self {
            RateUnit::Second => 1.0,
            RateUnit::Minute => 60.0,
            RateUnit::Hour => 3600.0,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            RateUnit::Second => "/s",
            RateUnit::Minute => "/min",
            RateUnit::Hour => "/h",
        }
    }
}

const EXPECTED: &str = "expected `METRIC OP VALUE`, e.g. `p95 < 3s`, `p99.9 < 5s`, `mean < 1s`, `max < 10s`, `error-rate < 1%`, `throughput > 200/s` or `recovery < 5m`";

impl Threshold {
    pub fn parse(text: &str) -> Result<Self, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let [metric, op, value] = words.as_slice() else {
            return Err(EXPECTED.to_owned());
        };
        Self::parse_parts(parse_metric(metric)?, op, value)
    }

    /// `NAME OP VALUE` where NAME is a business metric of the given kind (`Rate` or
    /// `Count`): `booking-success-rate > 95%`.
    pub(crate) fn parse_business(text: &str, metric: SloMeasure) -> Result<Self, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let [_, op, value] = words.as_slice() else {
            return Err("expected `METRIC OP VALUE`, e.g. `booking-success-rate > 95%`".to_owned());
        };
        Self::parse_parts(metric, op, value)
    }

    fn parse_parts(metric: SloMeasure, op: &str, value: &str) -> Result<Self, String> {
        let comparison = match op {
            "<" => Comparison::Below,
            "<=" => Comparison::AtMost,
            ">" => Comparison::Above,
            ">=" => Comparison::AtLeast,
            other => {
                return Err(format!(
                    "unknown comparison `{other}`: expected `<`, `<=`, `>` or `>=`"
                ));
            }
        };
        let per = match metric {
            SloMeasure::Throughput => RateUnit::written_in(value),
            _ => RateUnit::Second,
        };
        let value = match metric {
            SloMeasure::Percentile(_)
            | SloMeasure::ServicePercentile(_)
            | SloMeasure::Mean
            | SloMeasure::Max
            | SloMeasure::Recovery => parse_duration(value)?.as_secs_f64() * 1e6,
            SloMeasure::ErrorRate | SloMeasure::Rate => parse_percent(value)?,
            SloMeasure::Throughput => Rate::parse(value)?.as_per_second(),
            SloMeasure::Count => value
                .parse::<u64>()
                .map_err(|_| format!("`{value}` is not a count: expected a whole number"))?
                as f64,
        };
        Ok(Self {
            measure: metric,
            comparison,
            value,
            per,
        })
    }

    /// Formats a measured (or threshold) value in this metric's unit; a rate per the
    /// unit it was written in (`1000/min`), though `value` is per second.
    pub(crate) fn format_value(&self, value: f64) -> String {
        match self.measure {
            SloMeasure::Throughput if self.per != RateUnit::Second => format!(
                "{}{}",
                trim(value * self.per.seconds(), 1),
                self.per.suffix()
            ),
            _ => format_metric_value(self.measure, value),
        }
    }
}

/// Formats a value of `metric` the way plans write it (`23.4ms`, `0.42%`, `215.3/s`).
pub fn format_metric_value(metric: SloMeasure, value: f64) -> String {
    match metric {
        SloMeasure::Percentile(_)
        | SloMeasure::ServicePercentile(_)
        | SloMeasure::Mean
        | SloMeasure::Max
        | SloMeasure::Recovery => format_latency_us(value),
        SloMeasure::ErrorRate | SloMeasure::Rate => format!("{}%", trim(value * 100.0, 2)),
        SloMeasure::Throughput => format!("{}/s", trim(value, 1)),
        SloMeasure::Count => trim(value, 0),
    }
}

/// `812us`, `23.4ms`, `1.25s`: enough digits to compare against a threshold.
pub fn format_latency_us(us: f64) -> String {
    if us < 1000.0 {
        format!("{}us", trim(us, 0))
    } else if us < 1e6 {
        format!("{}ms", trim(us / 1000.0, 1))
    } else if us >= 60e6 && (us / 1e6).fract() == 0.0 {
        format_duration(std::time::Duration::from_secs_f64(us / 1e6))
    } else {
        format!("{}s", trim(us / 1e6, 2))
    }
}

fn trim(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

fn parse_metric(text: &str) -> Result<SloMeasure, String> {
    match text {
        "mean" | "avg" | "average" => return Ok(SloMeasure::Mean),
        "max" => return Ok(SloMeasure::Max),
        "median" => return Ok(SloMeasure::Percentile(50.0)),
        "error-rate" | "error_rate" | "errors" => return Ok(SloMeasure::ErrorRate),
        "throughput" | "rps" => return Ok(SloMeasure::Throughput),
        "recovery" => return Ok(SloMeasure::Recovery),
        _ => {}
    }
    if let Some(percentile) = text.strip_prefix("service-") {
        return match parse_metric(percentile)? {
            SloMeasure::Percentile(p) => Ok(SloMeasure::ServicePercentile(p)),
            _ => Err(format!(
                "unknown metric `{text}`: `service-` goes before a percentile, e.g. `service-p95 < 3s`"
            )),
        };
    }
    if let Some(number) = text.strip_prefix('p') {
        if let Ok(p) = number.parse::<f64>() {
            if p > 0.0 && p <= 100.0 {
                return Ok(SloMeasure::Percentile(p));
            }
        }
    }
    let known = [
        "p50",
        "p90",
        "p95",
        "p99",
        "p99.9",
        "median",
        "mean",
        "max",
        "error-rate",
        "throughput",
        "recovery",
    ];
    let hint = crate::plan::did_you_mean(text, known)
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    Err(format!("unknown metric `{text}`{hint}: {EXPECTED}"))
}

impl fmt::Display for SloMeasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SloMeasure::Percentile(p) => write!(f, "p{}", trim(*p, 3)),
            SloMeasure::ServicePercentile(p) => write!(f, "service-p{}", trim(*p, 3)),
            SloMeasure::Mean => f.write_str("mean"),
            SloMeasure::Max => f.write_str("max"),
            SloMeasure::ErrorRate => f.write_str("error-rate"),
            SloMeasure::Throughput => f.write_str("throughput"),
            SloMeasure::Rate => f.write_str("rate"),
            SloMeasure::Count => f.write_str("count"),
            SloMeasure::Recovery => f.write_str("recovery"),
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.measure,
            self.comparison.symbol(),
            self.format_value(self.value)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_write() {
        let t = Threshold::parse("p95 < 3s").unwrap();
        assert_eq!(
            (t.measure, t.comparison, t.value),
            (SloMeasure::Percentile(95.0), Comparison::Below, 3e6)
        );
        assert_eq!(
            Threshold::parse("p99.9 <= 5s").unwrap().measure,
            SloMeasure::Percentile(99.9)
        );
        assert_eq!(Threshold::parse("error-rate < 1%").unwrap().value, 0.01);
        let service = Threshold::parse("service-p99 < 200ms").unwrap();
        assert_eq!(service.measure, SloMeasure::ServicePercentile(99.0));
        assert_eq!(service.to_string(), "service-p99 < 200ms");
        assert!(Threshold::parse("service-mean < 1s").is_err());
        assert_eq!(Threshold::parse("throughput > 200/s").unwrap().value, 200.0);
        assert_eq!(
            Threshold::parse("max < 10s").unwrap().to_string(),
            "max < 10s"
        );
        assert_eq!(
            Threshold::parse("p95 < 500ms").unwrap().to_string(),
            "p95 < 500ms"
        );
    }

    #[test]
    fn rejects_with_a_reason() {
        assert!(Threshold::parse("p95 3s").unwrap_err().contains("expected"));
        assert!(
            Threshold::parse("p959 < 3s")
                .unwrap_err()
                .contains("unknown metric")
        );
        assert!(
            Threshold::parse("error-rate < 1")
                .unwrap_err()
                .contains("percentage")
        );
        assert!(
            Threshold::parse("p95 ~ 3s")
                .unwrap_err()
                .contains("comparison")
        );
        assert!(Threshold::parse("latncy < 3s").is_err());
    }

    /// `1000/min` stays per minute in every output, threshold and measured value alike.
    #[test]
    fn a_rate_keeps_the_unit_it_was_written_in() {
        let t = Threshold::parse("throughput > 1000/min").unwrap();
        assert!(
            (t.value - 1000.0 / 60.0).abs() < 1e-9,
            "compared per second"
        );
        assert_eq!(t.to_string(), "throughput > 1000/min");
        assert_eq!(t.format_value(20.0), "1200/min");
        let per_hour = Threshold::parse("throughput >= 90/h").unwrap();
        assert_eq!(per_hour.to_string(), "throughput >= 90/h");
        assert_eq!(per_hour.format_value(0.5), "1800/h");
        let per_second = Threshold::parse("throughput > 2.5/sec").unwrap();
        assert_eq!(per_second.to_string(), "throughput > 2.5/s");
    }

    #[test]
    fn formats_latencies_readably() {
        assert_eq!(format_latency_us(812.0), "812us");
        assert_eq!(format_latency_us(23_456.0), "23.5ms");
        assert_eq!(format_latency_us(1_250_000.0), "1.25s");
        assert_eq!(format_latency_us(3_000_000.0), "3s");
    }
}
