//! `ReservationStore`: the pre-reservations taken so far, one calendar per accommodation.
//!
//! Invariant: the stays in a calendar never overlap, because a stay is only inserted
//! while holding that calendar's lock and after checking it against its neighbour.
//! Overlapping requests are refused, so the store grows only with distinct booked
//! nights and keeps nothing else per request.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;

use super::chaos::mix;
use super::stay_dates::StayDates;

/// Why a pre-reservation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PrereserveError {
    #[error("not_found")]
    UnknownAccommodation,
    #[error("date_overlap")]
    DateOverlap,
    /// Another request holds the accommodation's calendar (only when asked not to wait).
    #[error("processing_or_unavailable")]
    Locked,
}

/// A stored pre-reservation, as confirm and cancel find it by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Booked {
    index: usize,
    dates: StayDates,
    confirmed: bool,
}

/// Why a confirm or cancel was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeError {
    UnknownCode,
    /// Confirming twice, or cancelling a confirmed stay.
    AlreadyConfirmed,
}

/// A pre-reservation code, shown as `PR-` and 8 uppercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ReservationCode(u32);

impl fmt::Display for ReservationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PR-{:08X}", self.0)
    }
}

/// Pre-reservations of every accommodation, safe to share between requests.
///
/// A stay is stored as its dates only (check-in → check-out), the least that keeps
/// later overlaps detectable, so each stay costs one small map entry.
pub(crate) struct ReservationStore {
    calendars: Vec<Mutex<BTreeMap<NaiveDate, NaiveDate>>>,
    issued: AtomicU64,
    code_key: u64,
    /// Pre-reservations by code, for confirm and cancel.
    codes: Mutex<HashMap<ReservationCode, Booked>>,
}

impl ReservationStore {
    /// An empty store for `accommodations` accommodations (indexed from 0); `seed`
    /// picks which codes get issued.
    pub(super) fn new(accommodations: usize, seed: u64) -> Self {
        Self {
            calendars: (0..accommodations)
                .map(|_| Mutex::new(BTreeMap::new()))
                .collect(),
            issued: AtomicU64::new(0),
            // Offset so codes don't reuse the exact stream that drives latency and errors.
            code_key: mix(seed ^ 0x5052_5245_5345_5256),
            codes: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `dates` is free for the accommodation at `index`; `None` if there is none.
    pub(crate) fn is_available(&self, index: usize, dates: StayDates) -> Option<bool> {
        let calendar = self.calendars.get(index)?;
        let calendar = calendar.lock().unwrap_or_else(|e| e.into_inner());
        Some(!conflicts(&calendar, dates))
    }

    /// Stores `dates` for the accommodation at `index` unless they overlap a stored stay.
    /// The check and the insert happen under one lock, so of two overlapping concurrent
    /// requests exactly one succeeds.
    /// With `wait: false`, a calendar another request holds is `Locked` instead.
    pub(crate) fn prereserve(
        &self,
        index: usize,
        dates: StayDates,
        wait: bool,
    ) -> Result<ReservationCode, PrereserveError> {
        let calendar = self
            .calendars
            .get(index)
            .ok_or(PrereserveError::UnknownAccommodation)?;
        let mut calendar = if wait {
            calendar.lock().unwrap_or_else(|e| e.into_inner())
        } else {
            match calendar.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Err(PrereserveError::Locked),
            }
        };
        if conflicts(&calendar, dates) {
            return Err(PrereserveError::DateOverlap);
        }
        // Only successful inserts take a number. There can be at most one stay per
        // accommodation and calendar day, far fewer than 2^32 in chrono's date range,
        // so truncating keeps numbers (and hence codes) unique.
        let number = self.issued.fetch_add(1, Ordering::Relaxed) as u32;
        let code = ReservationCode(scramble(number, self.code_key));
        calendar.insert(dates.check_in, dates.check_out);
        self.codes.lock().unwrap_or_else(|e| e.into_inner()).insert(
            code,
            Booked {
                index,
                dates,
                confirmed: false,
            },
        );
        Ok(code)
    }

    /// Confirms the pre-reservation `code` (as written, `PR-…`).
    pub(crate) fn confirm(&self, code: &str) -> Result<(), CodeError> {
        let code = parse_code(code).ok_or(CodeError::UnknownCode)?;
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        let booked = codes.get_mut(&code).ok_or(CodeError::UnknownCode)?;
        if booked.confirmed {
            return Err(CodeError::AlreadyConfirmed);
        }
        booked.confirmed = true;
        Ok(())
    }

    /// Cancels the unconfirmed pre-reservation `code`, freeing its dates.
    pub(crate) fn cancel(&self, code: &str) -> Result<(), CodeError> {
        let code = parse_code(code).ok_or(CodeError::UnknownCode)?;
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        let booked = *codes.get(&code).ok_or(CodeError::UnknownCode)?;
        if booked.confirmed {
            return Err(CodeError::AlreadyConfirmed);
        }
        codes.remove(&code);
        drop(codes);
        let mut calendar = self.calendars[booked.index]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        calendar.remove(&booked.dates.check_in);
        Ok(())
    }
}

fn parse_code(text: &str) -> Option<ReservationCode> {
    let hex = text.strip_prefix("PR-")?;
    (hex.len() == 8)
        .then(|| u32::from_str_radix(hex, 16).ok())
        .flatten()
        .map(ReservationCode)
}

/// Whether `dates` overlaps a stay in `calendar`. Stored stays are disjoint and sorted
/// by check-in, hence also by check-out, so only the last stay starting before
/// `dates.check_out` can reach into `dates`.
fn conflicts(calendar: &BTreeMap<NaiveDate, NaiveDate>, dates: StayDates) -> bool {
    calendar
        .range(..dates.check_out)
        .next_back()
        .is_some_and(|(&check_in, &check_out)| {
            StayDates {
                check_in,
                check_out,
            }
            .overlaps(&dates)
        })
}

/// A keyed bijection on `u32`: xor with a key, multiply by odd constants and xor-shift
/// right are each invertible, so distinct numbers give distinct, random-looking codes.
fn scramble(number: u32, key: u64) -> u32 {
    let mut x = number ^ key as u32;
    x = x.wrapping_mul(0x9E37_79B1);
    x ^= x >> 16;
    x = x.wrapping_add((key >> 32) as u32);
    x = x.wrapping_mul(0x85EB_CA6B);
    x ^= x >> 13;
    x = x.wrapping_mul(0xC2B2_AE35);
    x ^ (x >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    fn stay(check_in: &str, check_out: &str) -> StayDates {
        StayDates::parse(Some(check_in), Some(check_out)).unwrap()
    }

    #[test]
    fn overlapping_stays_are_refused_back_to_back_accepted() {
        let store = ReservationStore::new(2, 0);
        assert!(
            store
                .prereserve(0, stay("2025-01-10", "2025-01-15"), true)
                .is_ok()
        );
        for (check_in, check_out) in [
            ("2025-01-10", "2025-01-15"),
            ("2025-01-11", "2025-01-12"),
            ("2025-01-05", "2025-01-11"),
            ("2025-01-14", "2025-01-20"),
            ("2025-01-01", "2025-02-01"),
        ] {
            assert_eq!(
                store.prereserve(0, stay(check_in, check_out), true),
                Err(PrereserveError::DateOverlap),
                "{check_in}..{check_out}"
            );
            assert_eq!(
                store.is_available(0, stay(check_in, check_out)),
                Some(false)
            );
        }
        assert_eq!(
            store.is_available(0, stay("2025-01-05", "2025-01-10")),
            Some(true)
        );
        assert!(
            store
                .prereserve(0, stay("2025-01-05", "2025-01-10"), true)
                .is_ok()
        );
        assert!(
            store
                .prereserve(0, stay("2025-01-15", "2025-01-16"), true)
                .is_ok()
        );
        // The other accommodation is unaffected.
        assert!(
            store
                .prereserve(1, stay("2025-01-10", "2025-01-15"), true)
                .is_ok()
        );
        // A gap between two stays can be filled exactly, but not overfilled.
        assert!(
            store
                .prereserve(0, stay("2025-01-20", "2025-01-25"), true)
                .is_ok()
        );
        assert_eq!(
            store.prereserve(0, stay("2025-01-16", "2025-01-21"), true),
            Err(PrereserveError::DateOverlap)
        );
        assert!(
            store
                .prereserve(0, stay("2025-01-16", "2025-01-20"), true)
                .is_ok()
        );
    }

    #[test]
    fn unknown_index_is_reported() {
        let store = ReservationStore::new(1, 0);
        assert_eq!(
            store.prereserve(1, stay("2025-01-10", "2025-01-15"), true),
            Err(PrereserveError::UnknownAccommodation)
        );
        assert_eq!(
            store.is_available(1, stay("2025-01-10", "2025-01-15")),
            None
        );
    }

    #[test]
    fn codes_are_unique_and_formatted() {
        let store = ReservationStore::new(1, 9);
        let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        let mut codes = HashSet::new();
        for day in 0..20_000 {
            let check_in = start + chrono::Days::new(day);
            let dates = StayDates {
                check_in,
                check_out: check_in + chrono::Days::new(1),
            };
            let code = store.prereserve(0, dates, true).unwrap().to_string();
            assert_eq!(code.len(), 11);
            assert!(code.starts_with("PR-"));
            assert!(
                code[3..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
            );
            assert!(codes.insert(code));
        }
    }

    #[test]
    fn scramble_is_injective_on_a_sample_and_keyed() {
        let outputs: HashSet<u32> = (0..200_000).map(|n| scramble(n, 77)).collect();
        assert_eq!(outputs.len(), 200_000);
        assert_ne!(scramble(0, 1), scramble(0, 2));
    }

    #[test]
    fn concurrent_overlapping_prereserves_admit_exactly_one() {
        let store = Arc::new(ReservationStore::new(1, 0));
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let store = Arc::clone(&store);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    store
                        .prereserve(0, stay("2025-03-01", "2025-03-04"), true)
                        .is_ok()
                })
            })
            .collect();
        let admitted = threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .filter(|ok| *ok)
            .count();
        assert_eq!(admitted, 1);
    }
}
