//! The histogram every duration is recorded in: microseconds, from 1 µs to one hour, to 3
//! significant digits. One definition, so the engine's bursts and the recorder's
//! statistics merge and compare exactly.

use hdrhistogram::Histogram;

/// The longest duration a histogram holds, in microseconds (one hour).
pub const LATENCY_MAX_US: u64 = 3_600_000_000;
/// Significant decimal digits every recorded value keeps.
pub const LATENCY_SIGFIG: u8 = 3;

/// An empty histogram with planrun's bounds.
pub fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts, so this cannot fail.
    Histogram::new_with_bounds(1, LATENCY_MAX_US, LATENCY_SIGFIG)
        .unwrap_or_else(|_| unreachable!("valid histogram bounds"))
}
