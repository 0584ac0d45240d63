//! Locust-compatible CSV: `stats.csv`, `stats_history.csv` and `failures.csv` with Locust
//! 2.x's exact headers, column order and number formats (times in milliseconds;
//! percentiles and medians as whole milliseconds, `N/A` when nothing was measured; CRLF
//! line ends, as Python's csv module writes), so scripts written for Locust's
//! `--csv` files read these unchanged.
//!
//! The columns mean what Locust 2.x's mean (checked against `locust/stats.py`:
//! `StatsCSV`, `StatsCSVFileWriter._stats_history_data_rows`): `stats_history.csv`
//! carries the run's cumulative percentiles in each row, or with `--csv-full-history` a
//! row per request name and ten-second percentiles; its `Requests/s` is Locust's
//! `current_rps`. The differences that remain are listed in docs/reports.md.

use chrono::{DateTime, Utc};
use csv::{Terminator, Writer, WriterBuilder};

use super::results::{IntervalResult, IntervalTotals, Percentiles, RequestResult, percentile_key};
use super::{RenderError, Results};
use crate::metrics::PERCENTILES;

/// `stats.csv`: one row per request name, then the `Aggregated` row (empty Type).
pub(crate) fn stats(results: &Results) -> Result<Vec<u8>, RenderError> {
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
    // Locust sorts its entries by name, then method.
    let mut requests: Vec<&RequestResult> = results.requests.iter().collect();
    requests.sort_by(|a, b| (&a.name, &a.method).cmp(&(&b.name, &b.method)));
    for request in requests.into_iter().chain([&results.aggregate]) {
        let latency = &request.latency;
        let mut row = vec![
            text_cell(&request.method),
            text_cell(&request.name),
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

/// `stats_history.csv`, as Locust's `--csv` writes it: a row per second with the run's
/// cumulative percentiles (so a second without responses still has them) and running
/// totals, for `Aggregated` only; or, for a run with full history (`--csv-full-history`),
/// first a row per request name, in Locust's order, with percentiles over the last ten
/// seconds (Locust's "current" percentiles), the `Aggregated` row too.
pub(crate) fn stats_history(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut csv = writer();
    csv.write_record(history_header())?;
    let series = &results.series;
    let aggregate_counts: Vec<(u64, u64)> =
        series.iter().map(|i| (i.requests, i.failures)).collect();
    let names = NameColumns::new(series);
    // Locust's rates count back from the last second with any response.
    let mut last_response = None;
    for (index, interval) in series.iter().enumerate() {
        if interval.requests > 0 {
            last_response = Some(index);
        }
        let second = HistorySecond {
            timestamp: interval_end(results.run.started_at, interval).to_string(),
            interval,
            last_response,
        };
        second.write_rows(&mut csv, &aggregate_counts, &names)?;
    }
    finish(csv)
}

/// `stats_history.csv`'s header: Locust's columns, its percentiles, then the running totals.
fn history_header() -> Vec<String> {
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
    header
}

/// With full history, the request names' rows: the order Locust writes them in, and each
/// name's requests and failures second by second.
struct NameColumns {
    /// Indexes into a second's `history`, sorted by name, then method.
    order: Vec<usize>,
    /// Per name in plan order: (requests, failures) per second.
    counts: Vec<Vec<(u64, u64)>>,
}

impl NameColumns {
    /// Reads the names from the first second with history (none without full history).
    fn new(series: &[IntervalResult]) -> Self {
        // With full history, every second lists the same names in plan order, `Aggregated`
        // last; Locust writes them sorted by name, then method.
        let per_name = series
            .iter()
            .find_map(|i| i.history.split_last().map(|(_, names)| names))
            .unwrap_or_default();
        let mut order: Vec<usize> = (0..per_name.len()).collect();
        order.sort_by_key(|&k| (&per_name[k].name, &per_name[k].method));
        let counts = per_name
            .iter()
            .map(|entry| {
                series
                    .iter()
                    .map(|i| {
                        i.by_request
                            .get(&entry.name)
                            .map_or((0, 0), |r| (r.requests, r.failures))
                    })
                    .collect()
            })
            .collect();
        NameColumns { order, counts }
    }
}

/// One second of `stats_history.csv`: what all of its rows share.
struct HistorySecond<'a> {
    /// When Locust would have written the rows, in Unix seconds.
    timestamp: String,
    interval: &'a IntervalResult,
    /// The last second so far with any response, where the rates count back from.
    last_response: Option<usize>,
}

impl HistorySecond<'_> {
    /// The second's rows: only `Aggregated` with the run's cumulative percentiles, or with
    /// full history a row per request name, then `Aggregated`, with ten-second percentiles.
    fn write_rows(
        &self,
        csv: &mut Writer<Vec<u8>>,
        aggregate_counts: &[(u64, u64)],
        names: &NameColumns,
    ) -> Result<(), RenderError> {
        let interval = self.interval;
        let Some((aggregate, history)) = interval.history.split_last() else {
            return self.write_row(
                csv,
                ("", AGGREGATED),
                aggregate_counts,
                &interval.total,
                &interval.total.percentiles_ms,
            );
        };
        for &k in names.order.iter().filter(|&&k| k < history.len()) {
            let entry = &history[k];
            self.write_row(
                csv,
                (&entry.method, &entry.name),
                &names.counts[k],
                &entry.total,
                &entry.window_percentiles_ms,
            )?;
        }
        self.write_row(
            csv,
            ("", AGGREGATED),
            aggregate_counts,
            &aggregate.total,
            &aggregate.window_percentiles_ms,
        )
    }

    /// One row: the (type, name), its current rates from `counts`, its percentiles and
    /// its running totals.
    fn write_row(
        &self,
        csv: &mut Writer<Vec<u8>>,
        (kind, name): (&str, &str),
        counts: &[(u64, u64)],
        total: &IntervalTotals,
        percentiles: &Percentiles,
    ) -> Result<(), RenderError> {
        let (requests_per_s, failures_per_s) = current_rates(counts, self.last_response);
        let mut row = vec![
            self.timestamp.clone(),
            self.interval.users.to_string(),
            text_cell(kind),
            text_cell(name),
            // Locust formats these with `:2f`: six decimals.
            format!("{requests_per_s:.6}"),
            format!("{failures_per_s:.6}"),
        ];
        row.extend(history_percentiles(total.count, percentiles));
        row.extend(running_totals(total));
        csv.write_record(&row)?;
        Ok(())
    }
}

/// Locust's `current_rps` and `current_fail_per_sec`: the mean per second over the ten
/// seconds that end two seconds before the last second with any response (never before
/// the start); 0 before there is such a window.
fn current_rates(counts: &[(u64, u64)], last_response: Option<usize>) -> (f64, f64) {
    let Some(last) = last_response else {
        return (0.0, 0.0);
    };
    let from = last.saturating_sub(12);
    let to = last.saturating_sub(2).max(from);
    let window = &counts[from..to.min(counts.len())];
    let seconds = window.len().max(1) as f64;
    let (requests, failures) = window
        .iter()
        .fold((0, 0), |(r, f), &(r1, f1)| (r + r1, f + f1));
    (requests as f64 / seconds, failures as f64 / seconds)
}

/// `N/A` before the first request, as Locust writes it; then whole milliseconds (0 when
/// nothing was measured in the window, as Locust's `int(None or 0)`).
fn history_percentiles(count: u64, percentiles: &Percentiles) -> Vec<String> {
    PERCENTILES
        .iter()
        .map(|&p| {
            // A summary.json from before these percentiles were kept has none.
            if count == 0 || percentiles.0.is_empty() {
                "N/A".to_owned()
            } else {
                whole_ms(percentiles.get(p))
            }
        })
        .collect()
}

/// The `Total …` columns, with the zeros Locust writes before the first response.
fn running_totals(total: &IntervalTotals) -> [String; 7] {
    let none = total.count == 0;
    [
        total.count.to_string(),
        total.failures.to_string(),
        whole_ms(Some(total.median_ms)),
        python_float(total.mean_ms),
        if none {
            "0".to_owned()
        } else {
            python_float(total.min_ms)
        },
        if none {
            "0".to_owned()
        } else {
            python_float(total.max_ms)
        },
        if none {
            "0".to_owned()
        } else {
            python_float(total.average_content_bytes)
        },
    ]
}

/// `failures.csv`: one row per request name and reason, most frequent first, with when it
/// was first and last seen (UTC, to the second, as Locust writes them).
pub(crate) fn failures(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut csv = writer();
    csv.write_record([
        "Method",
        "Name",
        "Error",
        "Occurrences",
        "First Seen",
        "Last Seen",
    ])?;
    let started_at = results.run.started_at;
    for failure in &results.failures {
        csv.write_record([
            text_cell(&failure.method),
            text_cell(&failure.name),
            text_cell(&failure.reason),
            failure.count.to_string(),
            utc_second(started_at, failure.first_s),
            utc_second(started_at, failure.last_s),
        ])?;
    }
    finish(csv)
}

/// `2026-11-26T18:58:42Z`: `seconds` into the run, cut to the whole second.
fn utc_second(started_at: DateTime<Utc>, seconds: f64) -> String {
    let offset = chrono::Duration::microseconds((seconds * 1e6).round() as i64);
    (started_at + offset)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A text cell (a name, a method, a reason) as written, unless a spreadsheet would run it
/// as a formula: OWASP's rule for CSV injection puts a `'` before a leading `=`, `+`, `-`,
/// `@`, tab or carriage return. Numeric cells never pass through here, so a negative
/// number stays a number.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
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

/// Locust's name for all requests together.
const AGGREGATED: &str = "Aggregated";

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
    use crate::report::results::{NameHistoryResult, fixture};

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
            "Method,Name,Error,Occurrences,First Seen,Last Seen"
        );
    }

    /// OWASP's advice for CSV injection: a text cell starting with `=`, `+`, `-`, `@`, a
    /// tab or a CR gets a `'`, so a spreadsheet shows it rather than running it. Numbers
    /// and ordinary names are left alone.
    #[test]
    fn text_cells_cannot_be_spreadsheet_formulas() {
        let results = fixture::hostile_results();
        let stats = text(stats(&results).unwrap());
        assert!(stats.contains("'-GET,\"'=cmd|' /C calc'!A0"), "{stats}");
        assert!(
            stats.contains("\r\nGET,\"/search?q=<b>&\"\"x\"\",y|z\",50,0,"),
            "{stats}"
        );
        let failures = text(failures(&results).unwrap());
        assert!(failures.contains(",\"'@SUM(1+1) =cmd"), "{failures}");
        for (cell, neutral) in [
            ("=1+2", "'=1+2"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@x", "'@x"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(text_cell(cell), neutral);
        }
    }

    /// Locust's `current_rps`: the ten seconds ending two before the last response.
    #[test]
    fn history_rates_are_locusts_current_rates() {
        let counts: Vec<(u64, u64)> = (0..20).map(|s| (s, s % 2)).collect();
        assert_eq!(current_rates(&counts, None), (0.0, 0.0));
        assert_eq!(current_rates(&counts, Some(1)), (0.0, 0.0), "no window yet");
        assert_eq!(
            current_rates(&counts, Some(3)),
            (0.0, 0.0),
            "second 0 alone"
        );
        assert_eq!(current_rates(&counts, Some(4)), (0.5, 0.5));
        // Seconds 7..=16: 115 requests, 5 failures.
        assert_eq!(current_rates(&counts, Some(19)), (11.5, 0.5));
    }

    #[test]
    fn full_history_rows_are_per_name_in_locusts_order_then_aggregated() {
        let mut results = fixture::results();
        for interval in &mut results.series {
            let entry = |name: &str, method: &str, count: u64| NameHistoryResult {
                name: name.to_owned(),
                method: method.to_owned(),
                total: IntervalTotals {
                    count,
                    ..interval.total.clone()
                },
                window_percentiles_ms: Percentiles::new([Some(7.4); PERCENTILES.len()]),
            };
            interval.history = vec![
                entry("checkout", "POST", interval.total.count / 2),
                entry("browse", "GET", 0),
                entry("Aggregated", "", interval.total.count),
            ];
        }
        let text = text(stats_history(&results).unwrap());
        let rows: Vec<Vec<&str>> = text
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').collect())
            .collect();
        assert_eq!(rows.len(), 3 * results.series.len());
        for chunk in rows.chunks(3) {
            let names: Vec<(&str, &str)> = chunk.iter().map(|r| (r[2], r[3])).collect();
            assert_eq!(
                names,
                [("GET", "browse"), ("POST", "checkout"), ("", "Aggregated")]
            );
            assert_eq!(chunk[0][11], "N/A", "no request yet");
            assert_eq!(chunk[1][11], "7", "the window's percentiles");
        }
    }

    #[test]
    fn python_floats() {
        assert_eq!(python_float(12.0), "12.0");
        assert_eq!(python_float(0.0), "0.0");
        assert_eq!(python_float(3.25), "3.25");
        assert_eq!(python_float(160.0 / 9.0), "17.77777777777778");
    }
}
