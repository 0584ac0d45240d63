//! Units that plans are written in: durations (`"250ms"`, `"1m30s"`), rates (`"1000/min"`),
//! percentages (`"1%"`), byte sizes (`"512KiB"`) and accepted status sets (`[201, 409]`,
//! `"2xx"`).
//!
//! Each type parses the text people write and displays it back in the same form, so a
//! parse∘display round-trip is the identity on values. `printable` is the unit of text
//! planrun shows people: what a terminal would act on, escaped.

mod byte_size;
mod duration;
pub mod exit_code;
mod histogram;
mod percent;
mod printable;
mod rate;
mod status_set;

pub use byte_size::ByteSize;
pub(crate) use duration::{format_duration, parse_duration, suggest_duration};
pub use histogram::{LATENCY_MAX_US, LATENCY_SIGFIG, new_histogram};
pub(crate) use percent::parse_percent;
pub use printable::{printable, printable_lines};
pub use rate::Rate;
pub(crate) use status_set::StatusSet;
