//! `Ring`: the most recent buckets of a window, and `Bucket`, the counts and a small
//! latency histogram of the requests completed in one stretch of time. A window is split
//! into at most `MAX_BUCKETS` buckets (a second each, or window/60 for longer windows),
//! so its memory does not depend on the run's length.

use std::collections::VecDeque;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::summary::LATENCY_MAX_US;
use crate::compile::slo::SloMeasure;

/// The most buckets a window is split into.
const MAX_BUCKETS: u64 = 60;

/// Counts and latencies of requests completed in a stretch of time.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    pub(super) requests: u64,
    failures: u64,
    pub(super) latency: Option<Histogram<u32>>,
}

impl Bucket {
    pub(super) fn new(with_latency: bool) -> Self {
        Self {
            requests: 0,
            failures: 0,
            // Two significant digits: a window's p95 to 1 % is plenty, and keeps each
            // bucket near 13 KB.
            latency: with_latency.then(|| {
                Histogram::new_with_bounds(1, LATENCY_MAX_US, 2)
                    .unwrap_or_else(|_| unreachable!("valid histogram bounds"))
            }),
        }
    }

    pub(super) fn record(&mut self, latency_us: Option<u64>, failed: bool) {
        self.requests += 1;
        self.failures += u64::from(failed);
        if let (Some(h), Some(us)) = (&mut self.latency, latency_us) {
            h.saturating_record(us);
        }
    }

    fn add(&mut self, other: &Bucket) {
        self.requests += other.requests;
        self.failures += other.failures;
        if let (Some(h), Some(o)) = (&mut self.latency, &other.latency) {
            // Same bounds on both sides: adding cannot fail.
            let _ = h.add(o);
        }
    }

    pub(super) fn measure(&self, metric: SloMeasure, seconds: f64) -> Option<f64> {
        let latency = || self.latency.as_ref().filter(|h| !h.is_empty());
        match metric {
            // A service-time tracker feeds its buckets service times.
            SloMeasure::Percentile(p) | SloMeasure::ServicePercentile(p) => {
                latency().map(|h| h.value_at_percentile(p) as f64)
            }
            SloMeasure::Mean => latency().map(|h| h.mean()),
            SloMeasure::Max => latency().map(|h| h.max() as f64),
            SloMeasure::ErrorRate => {
                (self.requests > 0).then(|| self.failures as f64 / self.requests as f64)
            }
            SloMeasure::Throughput => Some(self.requests as f64 / seconds.max(1e-9)),
            // Never windowed: recovery is the probe's, business metrics the run's.
            SloMeasure::Recovery | SloMeasure::Rate | SloMeasure::Count => None,
        }
    }
}

/// A ring of the most recent buckets.
#[derive(Debug)]
pub(super) struct Ring {
    /// Seconds per bucket.
    pub(super) bucket_s: u64,
    /// Buckets per window.
    pub(super) len: usize,
    pub(super) buckets: VecDeque<Bucket>,
    /// The bucket being filled.
    pub(super) current: Bucket,
}

impl Ring {
    pub(super) fn new(window: Duration, with_latency: bool) -> Self {
        let window_s = window.as_secs().max(1);
        let bucket_s = window_s.div_ceil(MAX_BUCKETS);
        Self {
            bucket_s,
            len: window_s.div_ceil(bucket_s) as usize,
            buckets: VecDeque::new(),
            current: Bucket::new(with_latency),
        }
    }

    /// Closes second `s`; returns true when a bucket was completed.
    pub(super) fn close_second(&mut self, s: u64) -> bool {
        if (s + 1) % self.bucket_s != 0 {
            return false;
        }
        self.push();
        true
    }

    pub(super) fn push(&mut self) {
        let fresh = Bucket::new(self.current.latency.is_some());
        self.buckets
            .push_back(std::mem::replace(&mut self.current, fresh));
        while self.buckets.len() > self.len {
            self.buckets.pop_front();
        }
    }

    pub(super) fn full(&self) -> bool {
        self.buckets.len() == self.len
    }

    pub(super) fn merged(&self) -> Bucket {
        let mut all = Bucket::new(self.current.latency.is_some());
        for bucket in &self.buckets {
            all.add(bucket);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_windows_use_coarser_buckets_and_keep_memory_bounded() {
        let ring = Ring::new(Duration::from_secs(600), true);
        assert_eq!((ring.bucket_s, ring.len), (10, 60));
        let ring = Ring::new(Duration::from_secs(30), false);
        assert_eq!((ring.bucket_s, ring.len), (1, 30));
    }
}
