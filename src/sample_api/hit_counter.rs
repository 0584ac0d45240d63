//! `HitCounter`: the live, concurrent counters behind [`super::HitCounts`].
//!
//! Every status the sample API can answer has its own atomic cell per endpoint, so
//! recording a hit is a single relaxed `fetch_add` with no lock. A status outside that
//! set (none today) still gets counted, through a mutex-protected map.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;

use super::endpoint::Endpoint;
use super::hits::{EndpointHits, HitCounts};

/// Statuses with a lock-free cell; covers every status the handlers produce.
const FAST_STATUSES: [u16; 9] = [200, 201, 401, 403, 404, 409, 413, 422, 500];

/// One endpoint's cells, aligned to a cache line so that endpoints hit from different
/// cores don't contend on the same line.
#[repr(align(64))]
#[derive(Default)]
struct Row([AtomicU64; FAST_STATUSES.len()]);

/// Thread-safe hit counters for every [`Endpoint`].
#[derive(Default)]
pub(crate) struct HitCounter {
    rows: [Row; Endpoint::ALL.len()],
    other: Mutex<BTreeMap<(Endpoint, u16), u64>>,
    /// Named business events (`prereserve.created`, `whatsapp.signature_ok`, …).
    events: Mutex<BTreeMap<&'static str, u64>>,
}

impl HitCounter {
    /// Counts one response of `endpoint` with `status`.
    pub(crate) fn record(&self, endpoint: Endpoint, status: StatusCode) {
        let code = status.as_u16();
        match FAST_STATUSES.iter().position(|&fast| fast == code) {
            Some(slot) => {
                self.rows[endpoint.index()].0[slot].fetch_add(1, Ordering::Relaxed);
            }
            None => {
                let mut other = self.other.lock().unwrap_or_else(|e| e.into_inner());
                *other.entry((endpoint, code)).or_default() += 1;
            }
        }
    }

    /// Counts one named business event.
    pub(super) fn event(&self, name: &'static str) {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        *events.entry(name).or_default() += 1;
    }

    /// The current counts. Each counter is exact and each `total` is the sum of its
    /// `by_status`; responses still being recorded while this runs may or may not be in it.
    pub(crate) fn snapshot(&self) -> HitCounts {
        let mut by_endpoint: BTreeMap<Endpoint, BTreeMap<u16, u64>> = BTreeMap::new();
        for endpoint in Endpoint::ALL {
            for (slot, cell) in self.rows[endpoint.index()].0.iter().enumerate() {
                let count = cell.load(Ordering::Relaxed);
                if count > 0 {
                    by_endpoint
                        .entry(endpoint)
                        .or_default()
                        .insert(FAST_STATUSES[slot], count);
                }
            }
        }
        let other = self.other.lock().unwrap_or_else(|e| e.into_inner());
        for (&(endpoint, code), &count) in other.iter() {
            by_endpoint.entry(endpoint).or_default().insert(code, count);
        }
        drop(other);

        let endpoints = by_endpoint
            .into_iter()
            .map(|(endpoint, by_status)| {
                let total = by_status.values().sum();
                (endpoint.id().to_string(), EndpointHits { total, by_status })
            })
            .collect();
        let events = self
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, count)| ((*name).to_owned(), *count))
            .collect();
        HitCounts { endpoints, events }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn records_fast_and_other_statuses() {
        let counter = HitCounter::default();
        counter.record(Endpoint::Prereserve, StatusCode::CREATED);
        counter.record(Endpoint::Prereserve, StatusCode::CREATED);
        counter.record(Endpoint::Prereserve, StatusCode::CONFLICT);
        counter.record(Endpoint::NotFound, StatusCode::IM_A_TEAPOT);

        let hits = counter.snapshot();
        assert_eq!(hits.endpoints.len(), 2);
        let prereserve = &hits.endpoints["prereserve"];
        assert_eq!(prereserve.total, 3);
        assert_eq!(prereserve.by_status, BTreeMap::from([(201, 2), (409, 1)]));
        assert_eq!(
            hits.endpoints["not_found"].by_status,
            BTreeMap::from([(418, 1)])
        );
        assert_eq!(hits.total(), 4);
    }

    #[test]
    fn empty_counter_has_no_endpoints() {
        assert_eq!(HitCounter::default().snapshot(), HitCounts::default());
    }

    #[test]
    fn concurrent_records_are_all_counted() {
        let counter = Arc::new(HitCounter::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    for i in 0..10_000 {
                        let status = if i % 2 == 0 {
                            StatusCode::OK
                        } else {
                            StatusCode::INTERNAL_SERVER_ERROR
                        };
                        counter.record(Endpoint::Health, status);
                        counter.record(Endpoint::NotFound, StatusCode::IM_A_TEAPOT);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let hits = counter.snapshot();
        assert_eq!(
            hits.endpoints["health"].by_status,
            BTreeMap::from([(200, 20_000), (500, 20_000)])
        );
        assert_eq!(hits.count("not_found"), 40_000);
    }
}
