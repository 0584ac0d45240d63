//! `Series`: the per-second series, kept on disk while the run goes.
//!
//! Each second of the run adds about a kilobyte (its percentiles, running totals and a
//! line per request name). Kept in memory that grows with run length: 3.6 MB over an
//! hour, which alone is most of a 1,000-user soak's allowed growth. So closed seconds are
//! appended to an unnamed temporary file beside the reports and read back once, when the
//! run is summarised. Only the last second stays in memory, for the progress display.
//!
//! The file is unlinked from the start (the OS removes it when planrun exits, however it
//! exits). Should writing it fail (a full disk), the series carries on in memory and a
//! line says so: a report that cost more memory beats a report with a hole in it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::path::Path;

use super::summary::SecondStats;

#[derive(Debug)]
pub(crate) struct Series {
    /// Closed seconds not (yet) on disk: all of them when there is no spill file.
    memory: Vec<SecondStats>,
    spill: Option<Spill>,
    /// The last second written to the spill file (in memory, `memory` has it).
    last_spilled: Option<SecondStats>,
}

#[derive(Debug)]
struct Spill {
    file: BufWriter<File>,
    /// Seconds written to the file.
    seconds: usize,
}

impl Series {
    /// A series kept entirely in memory (short runs and tests).
    pub(crate) fn in_memory() -> Self {
        Self {
            memory: Vec::new(),
            spill: None,
            last_spilled: None,
        }
    }

    /// A series spilled to an unnamed file in `dir`; in memory if that cannot be created.
    pub(crate) fn spilled_into(dir: &Path) -> Self {
        let spill = match tempfile::tempfile_in(dir) {
            Ok(file) => Some(Spill {
                file: BufWriter::new(file),
                seconds: 0,
            }),
            Err(error) => {
                eprintln!(
                    "note: cannot create a temporary file in {} ({error}); the per-second \
                     series stays in memory",
                    dir.display()
                );
                None
            }
        };
        Self {
            spill,
            ..Self::in_memory()
        }
    }

    pub(crate) fn push(&mut self, second: SecondStats) {
        if let Some(spill) = &mut self.spill {
            match spill.append(&second) {
                Ok(()) => {
                    self.last_spilled = Some(second);
                    return;
                }
                Err(error) => {
                    eprintln!(
                        "note: cannot write the per-second series to its temporary file \
                         ({error}); keeping it in memory from now on"
                    );
                    self.memory = self.take_spilled();
                }
            }
        }
        self.memory.push(second);
    }

    /// The last closed second.
    pub(crate) fn last(&self) -> Option<&SecondStats> {
        self.memory.last().or(self.last_spilled.as_ref())
    }

    /// Every second, in order.
    pub(crate) fn into_vec(mut self) -> Vec<SecondStats> {
        let mut seconds = self.take_spilled();
        seconds.append(&mut self.memory);
        seconds
    }

    /// Reads the spill file back and stops spilling. What cannot be read is reported and
    /// left out rather than failing the run's reports.
    fn take_spilled(&mut self) -> Vec<SecondStats> {
        let Some(spill) = self.spill.take() else {
            return Vec::new();
        };
        let expected = spill.seconds;
        let seconds = spill.read_back().unwrap_or_else(|error| {
            eprintln!("note: cannot read the per-second series back ({error})");
            Vec::new()
        });
        if seconds.len() != expected {
            eprintln!(
                "note: the per-second series lost {} of its {expected} seconds",
                expected.saturating_sub(seconds.len())
            );
        }
        seconds
    }
}

impl Spill {
    /// One JSON line per second.
    fn append(&mut self, second: &SecondStats) -> io::Result<()> {
        serde_json::to_writer(&mut self.file, second)?;
        self.file.write_all(b"\n")?;
        self.seconds += 1;
        Ok(())
    }

    fn read_back(self) -> io::Result<Vec<SecondStats>> {
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        let mut seconds = Vec::with_capacity(self.seconds);
        for line in BufReader::new(file).lines() {
            seconds.push(serde_json::from_str(&line?)?);
        }
        Ok(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{NameHistory, PERCENTILES, RequestSecond, RunningTotals};

    fn second(n: u64) -> SecondStats {
        SecondStats {
            second: n,
            requests: 10 * n,
            failures: n % 3,
            p50_us: 1_000 + n,
            p95_us: 9_000 + n,
            max_us: 20_000,
            users: 7,
            percentiles_us: (n % 2 == 0).then(|| PERCENTILES.map(|p| (p * 100.0) as u64 + n)),
            total: RunningTotals {
                requests: 55 * n,
                failures: n,
                bytes: 1 << 40,
                min_us: 3,
                mean_us: 1234.5678 + n as f64 / 7.0,
                p50_us: 999,
                max_us: u64::MAX,
                percentiles_us: Some(PERCENTILES.map(|p| p as u64 * 10)),
            },
            by_request: vec![
                RequestSecond {
                    requests: n,
                    failures: 0,
                    p50_us: Some(800),
                    p95_us: None,
                },
                RequestSecond::default(),
            ],
            history: if n % 5 == 0 {
                vec![NameHistory::default(); 3]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn a_spilled_series_reads_back_exactly_and_keeps_only_the_last_second_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut series = Series::spilled_into(dir.path());
        assert!(series.spill.is_some());
        for n in 0..500 {
            series.push(second(n));
        }
        assert!(series.memory.is_empty(), "closed seconds live on disk");
        assert_eq!(series.last(), Some(&second(499)));
        let expected: Vec<SecondStats> = (0..500).map(second).collect();
        assert_eq!(series.into_vec(), expected);
    }

    #[test]
    fn the_spill_file_has_no_name_in_the_reports_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut series = Series::spilled_into(dir.path());
        series.push(second(1));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(series.into_vec(), vec![second(1)]);
    }

    #[test]
    fn without_a_usable_directory_the_series_stays_in_memory() {
        let mut series = Series::spilled_into(Path::new("/nonexistent/planrun/reports"));
        assert!(series.spill.is_none());
        series.push(second(0));
        series.push(second(1));
        assert_eq!(series.into_vec(), vec![second(0), second(1)]);
    }
}
