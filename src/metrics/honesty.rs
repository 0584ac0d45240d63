//! `LoadHonesty`: whether planrun kept the schedule it was asked to keep. A load
//! generator that falls behind (late arrivals, dropped arrivals, a saturated CPU) measures
//! itself as much as the target; the summary then says so and why.
//!
//! Also the outcomes of what runs beside the schedule: bursts and the recovery probe.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::machine::MachineLoad;
use super::summary::new_histogram;
use crate::engine::LocalLimit;
use crate::engine::OpenFileLimit;

/// Scheduler lag (p99) beyond which arrivals no longer follow the plan's rate.
pub(crate) const LAG_P99_LIMIT_US: u64 = 10_000;
/// Share of its worker threads' time the planrun process may use before its own timing
/// is suspect.
pub(super) const CPU_BUSY_LIMIT: f64 = 0.9;

/// Open-model arrivals as the scheduler saw them.
#[derive(Debug, Clone)]
pub struct ArrivalStats {
    /// Arrivals the schedule asked for (started + dropped).
    pub due: u64,
    /// Arrivals not started: `max-in-flight` were already running, or the dispatcher
    /// reached them too late to send them on time.
    pub dropped: u64,
    /// How late each arrival was dispatched, in microseconds.
    pub(crate) lag: Histogram<u64>,
}

impl Default for ArrivalStats {
    fn default() -> Self {
        Self {
            due: 0,
            dropped: 0,
            lag: new_histogram(),
        }
    }
}

impl ArrivalStats {
    pub(crate) fn started(&self) -> u64 {
        self.due - self.dropped
    }
}

/// Could the results be trusted, and if not, why.
#[derive(Debug, Clone, Default)]
pub struct LoadHonesty {
    /// Open-model runs only.
    pub arrivals: Option<ArrivalStats>,
    /// The planrun process's CPU time over the run's wall time, as a share of what its
    /// worker threads could use (one core each; the in-process sample API included);
    /// `None` where it cannot be read.
    pub(crate) cpu_busy: Option<f64>,
    /// Requests that failed on planrun's own resources (`local-resources`), by the limit
    /// they hit; empty when none did.
    pub(crate) local_failures: Vec<(LocalLimit, u64)>,
    /// The open-file limit the run had (after planrun raised its soft limit at start).
    pub(crate) open_files: Option<OpenFileLimit>,
    /// How busy the whole machine was (steal, CPU pressure, load).
    pub(crate) machine: MachineLoad,
    /// Closed model: how late users' think-time timers fired, in microseconds; `None`
    /// when none fired (no think time, or the open model, whose lag is `arrivals.lag`).
    pub(crate) timer_lag: Option<Histogram<u64>>,
    /// Why the results may not be trustworthy; empty when they are.
    pub reasons: Vec<String>,
}

impl LoadHonesty {
    pub fn trustworthy(&self) -> bool {
        self.reasons.is_empty()
    }

    /// Fills `reasons` from what was measured.
    pub(crate) fn assess(&mut self) {
        self.reasons.clear();
        if let Some(arrivals) = &self.arrivals {
            if arrivals.dropped > 0 {
                self.reasons.push(format!(
                    "{} of {} arrivals were dropped (at `max-in-flight`, or too late to send on time): the offered load was lower than planned",
                    arrivals.dropped, arrivals.due
                ));
            }
            if !arrivals.lag.is_empty() {
                let p99 = arrivals.lag.value_at_quantile(0.99);
                if p99 > LAG_P99_LIMIT_US {
                    self.reasons.push(format!(
                        "scheduler lag p99 {:.1}ms (limit {}ms): arrivals were sent late",
                        p99 as f64 / 1000.0,
                        LAG_P99_LIMIT_US / 1000
                    ));
                }
            }
        }
        for &(limit, count) in &self.local_failures {
            let reason = match (limit, self.open_files) {
                (LocalLimit::OpenFiles, Some(files)) => format!(
                    "{count} requests failed because planrun ran out of file descriptors at its open-file limit of {} (`ulimit -n`; hard limit {}): raise it before running (`ulimit -n 65536`) or run fewer users",
                    files.soft, files.hard
                ),
                _ => format!(
                    "{count} requests failed on planrun's own machine, not the target: {limit}"
                ),
            };
            self.reasons.push(reason);
        }
        if let Some(lag) = self.timer_lag.as_ref().filter(|h| !h.is_empty()) {
            let p99 = lag.value_at_quantile(0.99);
            if p99 > LAG_P99_LIMIT_US {
                self.reasons.push(format!(
                    "think-time timers fired late: p99 {:.1}ms (limit {}ms), so users sent less than the plan asks",
                    p99 as f64 / 1000.0,
                    LAG_P99_LIMIT_US / 1000
                ));
            }
        }
        self.reasons.extend(self.machine.reasons());
        if let Some(busy) = self.cpu_busy {
            if busy > CPU_BUSY_LIMIT {
                self.reasons.push(format!(
                    "planrun used {:.0}% of its threads' CPU (limit {:.0}%): its own timing is suspect",
                    busy * 100.0,
                    CPU_BUSY_LIMIT * 100.0
                ));
            }
        }
    }
}

/// CPU time this process has used so far (user + system), where it can be read.
pub(crate) fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it start past ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after ')'.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports in USER_HZ, which is 100 on every architecture it exposes to users.
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_lag_and_cpu_each_give_a_reason() {
        let mut honest = LoadHonesty {
            arrivals: Some(ArrivalStats::default()),
            cpu_busy: Some(0.3),
            ..LoadHonesty::default()
        };
        honest.assess();
        assert!(honest.trustworthy());

        let mut arrivals = ArrivalStats {
            due: 100,
            dropped: 3,
            ..ArrivalStats::default()
        };
        for _ in 0..100 {
            arrivals.lag.record(50_000).unwrap();
        }
        let mut late = LoadHonesty {
            arrivals: Some(arrivals),
            cpu_busy: Some(0.95),
            ..LoadHonesty::default()
        };
        late.assess();
        assert_eq!(late.reasons.len(), 3, "{:?}", late.reasons);
        assert!(late.reasons[0].starts_with("3 of 100 arrivals were dropped"));
        assert!(late.reasons[1].contains("lag p99 50"));
        assert!(late.reasons[2].contains("95%"));
    }

    #[test]
    fn late_think_time_timers_and_a_saturated_machine_give_reasons() {
        let mut timers = new_histogram();
        for _ in 0..100 {
            timers.record(30_000).unwrap();
        }
        let mut busy = LoadHonesty {
            timer_lag: Some(timers),
            machine: MachineLoad {
                cpu_pressure: Some(0.8),
                wall: Duration::from_secs(5),
                ..MachineLoad::default()
            },
            ..LoadHonesty::default()
        };
        busy.assess();
        assert_eq!(busy.reasons.len(), 2, "{:?}", busy.reasons);
        assert!(busy.reasons[0].starts_with("think-time timers fired late: p99 30"));
        assert!(busy.reasons[1].contains("80% of the run"));

        let mut punctual = new_histogram();
        punctual.record(900).unwrap();
        let mut calm = LoadHonesty {
            timer_lag: Some(punctual),
            ..LoadHonesty::default()
        };
        calm.assess();
        assert!(calm.trustworthy(), "{:?}", calm.reasons);
    }

    #[test]
    fn failures_on_planrun_own_limits_name_the_limit() {
        let mut short = LoadHonesty {
            local_failures: vec![
                (LocalLimit::OpenFiles, 812),
                (LocalLimit::EphemeralPorts, 3),
            ],
            open_files: Some(OpenFileLimit {
                soft: 256,
                hard: 256,
            }),
            ..LoadHonesty::default()
        };
        short.assess();
        assert!(!short.trustworthy());
        assert_eq!(short.reasons.len(), 2, "{:?}", short.reasons);
        assert!(
            short.reasons[0].starts_with("812 requests failed because planrun ran out of file descriptors at its open-file limit of 256 (`ulimit -n`"),
            "{}",
            short.reasons[0]
        );
        assert!(
            short.reasons[1].contains("local ports"),
            "{}",
            short.reasons[1]
        );
    }

    #[test]
    fn reads_this_process_cpu_time_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(process_cpu_time().is_some());
        }
    }
}
