//! Locust-compatible CSV: `stats.csv`, `stats_history.csv` and `failures.csv` with Locust
//! 2.x's exact headers, column order and number formats (times in milliseconds;
//! percentiles and medians as whole milliseconds, `N/A` when nothing was measured; CRLF
//! line ends, as Python's csv module writes), so scripts written for Locust's
//! `--csv` files read these unchanged.
//!
//! Two deliberate differences, documented in the README: the percentile columns of
//! `stats_history.csv` are the interval's own (Locust writes the run's cumulative
//! percentiles there unless `--csv-full-history`, and a 10-second window then), and there
//! is one row per second, for the `Aggregated` line only (Locust's default).

use chrono::{DateTime, Utc};
use csv::{Terminator, Writer, WriterBuilder};

use super::results::{IntervalResult, Percentiles, RequestResult, percentile_key};
use super::{RenderError, Results};
use crate::metrics::PERCENTILES;

/// `stats.csv`: one row per request name, then the `Aggregated` row (empty Type).
pub fn stats(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut csv = writer();
    let mut header: Vec<String> = [
        "Type",
        "Name",
        "Request Count",
        "Failure Count",
        "Median Response Time",
        "Average Response Time",
        "Min Response Time",
        "Max Response Time",
        "Average Content Size",
        "Requests/s",
        "Failures/s",
    ]
    .map(String::from)
    .to_vec();
    header.extend(percentile_headers());
    csv.write_record(&header)?;
    for request in results.requests.iter().chain([&results.aggregate]) {
        let latency = &request.latency;
        let mut row = vec![
            request.method.clone(),
            request.name.clone(),
            request.count.to_string(),
            request.failures.to_string(),
            whole_ms(latency.percentiles_ms.get(50.0)),
            python_float(latency.mean_ms.unwrap_or(0.0)),
            ms_or_zero(latency.min_ms),
            ms_or_zero(latency.max_ms),
            python_float(request.average_content_bytes),
            python_float(request.rps),
            python_float(request.failures_per_s),
        ];
        row.extend(percentile_cells(request, &latency.percentiles_ms));
        csv.write_record(&row)?;
    }
    finish(csv)
}

/// `stats_history.csv`: one `Aggregated` row per second of the run.
pub fn stats_history(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut csv = writer();
    let mut header: Vec<String> = [
        "Timestamp",
        "User Count",
        "Type",
        "Name",
        "Requests/s",
        "Failures/s",
    ]
    .map(String::from)
    .to_vec();
    header.extend(percentile_headers());
    header.extend(
        [
            "Total Request Count",
            "Total Failure Count",
            "Total Median Response Time",
            "Total Average Response Time",
            "Total Min Response Time",
            "Total Max Response Time",
            "Total Average Content Size",
        ]
        .map(String::from),
    );
    csv.write_record(&header)?;
    for interval in &results.series {
        let total = &interval.total;
        let mut row = vec![
            interval_end(results.run.started_at, interval).to_string(),
            interval.users.to_string(),
            String::new(),
            "Aggregated".to_owned(),
            // Each interval is one second, so its count is its rate. Locust's own `:2f`
            // format gives six decimals.
            format!("{:.6}", interval.requests as f64),
            format!("{:.6}", interval.failures as f64),
        ];
        row.extend(PERCENTILES.iter().map(|&p| {
            interval
                .percentiles_ms
                .get(p)
                .map_or_else(|| "N/A".to_owned(), |v| whole_ms(Some(v)))
        }));
        let latency = |ms: f64| {
            if total.count == 0 {
                "0".to_owned()
            } else {
                python_float(ms)
            }
        };
        row.extend([
            total.count.to_string(),
            total.failures.to_string(),
            whole_ms(Some(total.median_ms)),
            latency(total.mean_ms),
            latency(total.min_ms),
            latency(total.max_ms),
            python_float(total.average_content_bytes),
        ]);
        csv.write_record(&row)?;
    }
    finish(csv)
}

/// `failures.csv`: one row per request name and reason, most frequent first.
pub fn failures(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut csv = writer();
    csv.write_record(["Method", "Name", "Error", "Occurrences"])?;
    for failure in &results.failures {
        csv.write_record([
            failure.method.as_str(),
            failure.name.as_str(),
            failure.reason.as_str(),
            &failure.count.to_string(),
        ])?;
    }
    finish(csv)
}

fn writer() -> Writer<Vec<u8>> {
    WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .from_writer(Vec::new())
}

fn finish(csv: Writer<Vec<u8>>) -> Result<Vec<u8>, RenderError> {
    csv.into_inner()
        .map_err(|e| RenderError::Io(std::io::Error::other(e.to_string())))
}

/// `50%`, `66%`, … `99.99%`, `100%`: Locust's percentile headers.
fn percentile_headers() -> impl Iterator<Item = String> {
    PERCENTILES
        .iter()
        .map(|&p| format!("{}%", percentile_key(p)))
}

fn percentile_cells<'a>(
    request: &'a RequestResult,
    percentiles: &'a Percentiles,
) -> impl Iterator<Item = String> + 'a {
    PERCENTILES.iter().map(move |&p| match percentiles.get(p) {
        Some(ms) if request.count > 0 => whole_ms(Some(ms)),
        _ => "N/A".to_owned(),
    })
}

/// The end of the interval in whole Unix seconds: when Locust would have written the row.
fn interval_end(started_at: DateTime<Utc>, interval: &IntervalResult) -> i64 {
    let seconds = i64::try_from(interval.second + 1).unwrap_or(i64::MAX);
    started_at.timestamp().saturating_add(seconds)
}

/// Whole milliseconds, rounded (Locust's percentile and median columns); 0 when absent.
fn whole_ms(ms: Option<f64>) -> String {
    format!("{}", ms.unwrap_or(0.0).round() as u64)
}

fn ms_or_zero(ms: Option<f64>) -> String {
    ms.map_or_else(|| "0".to_owned(), python_float)
}

/// A float as Python's `repr` writes it for these magnitudes: `12.0`, `3.25`.
fn python_float(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::fixture;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn stats_csv() {
        insta::assert_snapshot!(text(stats(&fixture::results()).unwrap()));
    }

    #[test]
    fn stats_history_csv() {
        insta::assert_snapshot!(text(stats_history(&fixture::results()).unwrap()));
    }

    #[test]
    fn failures_csv() {
        insta::assert_snapshot!(text(failures(&fixture::results()).unwrap()));
    }

    #[test]
    fn headers_are_locusts() {
        // Python's csv module ends rows with CRLF.
        let first_line = |bytes: Vec<u8>| text(bytes).split("\r\n").next().unwrap().to_owned();
        let results = fixture::results();
        assert_eq!(
            first_line(stats(&results).unwrap()),
            "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
             Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,\
             50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
        );
        assert_eq!(
            first_line(stats_history(&results).unwrap()),
            "Timestamp,User Count,Type,Name,Requests/s,Failures/s,\
             50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,\
             Total Request Count,Total Failure Count,Total Median Response Time,\
             Total Average Response Time,Total Min Response Time,Total Max Response Time,\
             Total Average Content Size"
        );
        assert_eq!(
            first_line(failures(&results).unwrap()),
            "Method,Name,Error,Occurrences"
        );
    }

    #[test]
    fn python_floats() {
        assert_eq!(python_float(12.0), "12.0");
        assert_eq!(python_float(0.0), "0.0");
        assert_eq!(python_float(3.25), "3.25");
        assert_eq!(python_float(160.0 / 9.0), "17.77777777777778");
    }
}
