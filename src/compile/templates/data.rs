//! `DataSet`: rows from a CSV or JSON file that feed template variables, read once at
//! compile time. A template reads a row as `NAME.column`; which row depends on the mode:
//!
//! - `sequential`: each draw takes the next row of one cursor shared by all users;
//! - `random`: each draw takes a random row (from the user's seeded RNG);
//! - `unique`: each row is used once across all users; when they run out, `on-exhausted`
//!   says what happens: `fail` (the request that needed a row fails), `recycle` (start
//!   over) or `stop` (the user stops);
//! - `per-user`: a user draws once (rows in order, going round) and keeps its row for its
//!   lifetime.
//!
//! Except for `per-user`, a user draws a new row at most once per task iteration, on the
//! first template that reads the data set, so every step of one iteration sees one row.

use std::sync::atomic::{AtomicUsize, Ordering};

use minijinja::Value;
use rand::Rng;
use rand::rngs::SmallRng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataMode {
    Sequential,
    Random,
    Unique,
    PerUser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnExhausted {
    Fail,
    Recycle,
    Stop,
}

/// A data file's rows, shared by every user.
#[derive(Debug)]
pub(crate) struct DataSet {
    pub(crate) name: String,
    pub(crate) columns: Vec<String>,
    pub(crate) mode: DataMode,
    pub(crate) on_exhausted: OnExhausted,
    rows: Vec<Value>,
    cursor: AtomicUsize,
}

/// Why no row could be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exhausted {
    /// `on-exhausted: fail`: the render fails with this message.
    Fail(String),
    /// `on-exhausted: stop`: the user stops.
    Stop,
}

impl DataSet {
    /// `rows` are objects with the same keys, `columns`.
    pub(crate) fn new(
        name: String,
        columns: Vec<String>,
        rows: Vec<Value>,
        mode: DataMode,
        on_exhausted: OnExhausted,
    ) -> Self {
        Self {
            name,
            columns,
            mode,
            on_exhausted,
            rows,
            cursor: AtomicUsize::new(0),
        }
    }

    /// Draws a row for one user.
    pub(crate) fn draw(&self, rng: &mut SmallRng) -> Result<Value, Exhausted> {
        let len = self.rows.len();
        let index = match self.mode {
            DataMode::Random => rng.random_range(0..len),
            // Per-user rows go round like sequential ones, so users get distinct rows
            // while there are enough.
            DataMode::Sequential | DataMode::PerUser => {
                self.cursor.fetch_add(1, Ordering::Relaxed) % len
            }
            DataMode::Unique => {
                let taken = self.cursor.fetch_add(1, Ordering::Relaxed);
                if taken < len {
                    taken
                } else {
                    match self.on_exhausted {
                        OnExhausted::Recycle => taken % len,
                        OnExhausted::Stop => return Err(Exhausted::Stop),
                        OnExhausted::Fail => {
                            return Err(Exhausted::Fail(format!(
                                "data `{}` has used all its {len} rows once (mode `unique`, on-exhausted: fail)",
                                self.name
                            )));
                        }
                    }
                }
            }
        };
        Ok(self.rows[index].clone())
    }

    /// Forgets the draws of the compile-time dry render, so the run starts at row one.
    pub(crate) fn rewind(&self) {
        self.cursor.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn set(mode: DataMode, on_exhausted: OnExhausted) -> DataSet {
        let rows = (0..3).map(Value::from).collect();
        DataSet::new("d".into(), vec![], rows, mode, on_exhausted)
    }

    fn draws(set: &DataSet, n: usize) -> Vec<Result<Value, Exhausted>> {
        let mut rng = SmallRng::seed_from_u64(1);
        (0..n).map(|_| set.draw(&mut rng)).collect()
    }

    #[test]
    fn sequential_wraps_and_unique_obeys_on_exhausted() {
        let seq = draws(&set(DataMode::Sequential, OnExhausted::Fail), 4);
        assert_eq!(seq, [0, 1, 2, 0].map(|i| Ok(Value::from(i))));
        let fail = draws(&set(DataMode::Unique, OnExhausted::Fail), 4);
        assert!(matches!(fail[3], Err(Exhausted::Fail(_))));
        assert_eq!(fail[2], Ok(Value::from(2)));
        let stop = draws(&set(DataMode::Unique, OnExhausted::Stop), 4);
        assert_eq!(stop[3], Err(Exhausted::Stop));
        let recycle = draws(&set(DataMode::Unique, OnExhausted::Recycle), 4);
        assert_eq!(recycle[3], Ok(Value::from(0)));
    }

    #[test]
    fn rewind_starts_over() {
        let unique = set(DataMode::Unique, OnExhausted::Fail);
        draws(&unique, 3);
        unique.rewind();
        assert_eq!(draws(&unique, 1)[0], Ok(Value::from(0)));
    }
}
