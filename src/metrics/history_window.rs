//! `HistoryWindow`: the last ten seconds of latencies per request name, for Locust's
//! `--csv-full-history` rows, whose percentiles cover a sliding ten-second window
//! (Locust's "current" percentiles) rather than the run so far.
//!
//! Each closed second keeps only the histogram buckets it used, as (value, count) pairs,
//! so memory follows what the seconds measured, not ten full histograms per name. Only
//! built when full history is asked for: the default history needs none of it.

use std::collections::VecDeque;

use hdrhistogram::Histogram;

use super::summary::{
    NameHistory, PERCENTILES, RequestStats, RunningTotals, new_histogram, percentile_set,
};

/// Seconds in Locust's window (`CURRENT_RESPONSE_TIME_PERCENTILE_WINDOW`).
pub(crate) const WINDOW_SECONDS: usize = 10;

/// A second's recorded latencies: (microseconds, count) per bucket used.
type Buckets = Vec<(u64, u64)>;

#[derive(Debug)]
pub(crate) struct HistoryWindow {
    /// Oldest first; each entry holds one `Buckets` per request name, then the aggregate.
    seconds: VecDeque<Vec<Buckets>>,
    scratch: Histogram<u64>,
}

impl Default for HistoryWindow {
    fn default() -> Self {
        Self {
            seconds: VecDeque::with_capacity(WINDOW_SECONDS + 1),
            scratch: new_histogram(),
        }
    }
}

impl HistoryWindow {
    /// Closes a second: `second` holds that second's latencies per request name, then all
    /// requests; `so_far` the same names from the start of the run. Returns one
    /// `NameHistory` per name, then the aggregate.
    pub(crate) fn close_second<'a>(
        &mut self,
        second: impl Iterator<Item = &'a Histogram<u64>>,
        so_far: impl Iterator<Item = &'a RequestStats>,
    ) -> Vec<NameHistory> {
        self.seconds.push_back(second.map(buckets).collect());
        if self.seconds.len() > WINDOW_SECONDS {
            self.seconds.pop_front();
        }
        so_far
            .enumerate()
            .map(|(index, stats)| NameHistory {
                totals: RunningTotals::of(stats),
                window_us: self.window(index),
            })
            .collect()
    }

    fn window(&mut self, index: usize) -> Option<[u64; PERCENTILES.len()]> {
        self.scratch.reset();
        for second in &self.seconds {
            for &(value, count) in second.get(index).into_iter().flatten() {
                // Same bounds as the histogram the value came from: it always fits.
                let _ = self.scratch.record_n(value, count);
            }
        }
        percentile_set(&self.scratch)
    }
}

fn buckets(histogram: &Histogram<u64>) -> Buckets {
    histogram
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_with(values: &[u64]) -> RequestStats {
        let mut stats = RequestStats::new("a", "GET");
        for &v in values {
            stats.count += 1;
            stats.latency.record(v).unwrap();
        }
        stats
    }

    #[test]
    fn the_window_forgets_seconds_older_than_ten() {
        let mut window = HistoryWindow::default();
        let slow = stats_with(&[500_000]);
        let quiet = stats_with(&[]);
        let fast = stats_with(&[1_000]);
        let total = stats_with(&[500_000, 1_000]);
        let first = window.close_second([&slow.latency].into_iter(), [&total].into_iter());
        assert!((500_000..500_600).contains(&first[0].window_us.unwrap()[10]));
        for _ in 1..WINDOW_SECONDS {
            let rows = window.close_second([&quiet.latency].into_iter(), [&total].into_iter());
            assert!(rows[0].window_us.unwrap()[10] > 499_000);
        }
        let rows = window.close_second([&fast.latency].into_iter(), [&total].into_iter());
        assert_eq!(rows[0].window_us.unwrap(), [1_000; PERCENTILES.len()]);
        assert_eq!(rows[0].totals.requests, 2, "totals are the run so far");
        for _ in 1..WINDOW_SECONDS {
            let rows = window.close_second([&quiet.latency].into_iter(), [&total].into_iter());
            assert_eq!(rows[0].window_us.unwrap()[10], 1_000);
        }
        let rows = window.close_second([&quiet.latency].into_iter(), [&total].into_iter());
        assert_eq!(rows[0].window_us, None, "ten quiet seconds");
    }
}
