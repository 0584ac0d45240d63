//! `MachineLoad`: how busy the whole machine was during the run, beside planrun's own CPU.
//! A saturated machine makes any target on it (and planrun's own timers) look slow: CPU
//! steal (a hypervisor giving the CPU to other guests) and CPU pressure (runnable tasks
//! waiting for a CPU) say so. Read from `/proc/stat` and `/proc/pressure/cpu` at the start
//! and the end of the run; a figure that cannot be read is unknown (`None`), never 0.

use std::time::{Duration, Instant};

/// CPU steal beyond this share of the machine's CPU time marks the run untrustworthy.
pub const STEAL_LIMIT: f64 = 0.10;
/// CPU pressure (the share of the run during which some runnable task waited for a CPU)
/// beyond this marks the run untrustworthy.
pub const PRESSURE_LIMIT: f64 = 0.40;
/// Machine figures over less wall time than this are reported but never judged:
/// `/proc/stat` counts in 10 ms ticks, too coarse for a shorter window.
pub(crate) const MIN_JUDGED_WALL: Duration = Duration::from_secs(1);

/// The machine's CPU counters at one instant.
#[derive(Debug, Clone)]
pub(crate) struct MachineSnapshot {
    at: Instant,
    cpu: Option<CpuTimes>,
    /// `some` total from `/proc/pressure/cpu`: time some task waited for a CPU.
    pressure: Option<Duration>,
}

/// The all-CPU line of `/proc/stat`, in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CpuTimes {
    /// user + nice + system + idle + iowait + irq + softirq + steal (guest time is
    /// already inside user and nice).
    pub(crate) total: u64,
    /// `None` on kernels whose line has no steal column.
    pub(crate) steal: Option<u64>,
}

/// How busy the machine was over the run. `None`: could not be read here.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MachineLoad {
    /// CPU steal over all CPU time, in 0..=1.
    pub(crate) steal: Option<f64>,
    /// Share of the run's wall time during which some runnable task waited for a CPU,
    /// in 0..=1 (`/proc/pressure/cpu`, "some").
    pub(crate) cpu_pressure: Option<f64>,
    /// The 1-minute load average at the end of the run, per core.
    pub(crate) load_per_core: Option<f64>,
    /// The wall time the figures cover.
    pub(crate) wall: Duration,
    /// The run's length by the engine's clock. Far longer than `wall` only under a
    /// paused test clock, where the machine's figures say nothing about the run.
    pub(crate) run: Duration,
}

impl MachineSnapshot {
    /// Reads the counters now.
    pub(crate) fn take() -> Self {
        let read = |path| std::fs::read_to_string(path).ok();
        Self {
            at: Instant::now(),
            cpu: read("/proc/stat").as_deref().and_then(parse_proc_stat),
            pressure: read("/proc/pressure/cpu")
                .as_deref()
                .and_then(parse_cpu_pressure),
        }
    }

    /// The machine's load from `self` until now, over a run of `run` by the engine's clock.
    pub(crate) fn load_since(&self, run: Duration) -> MachineLoad {
        let end = Self::take();
        let wall = end.at.duration_since(self.at);
        let steal = (|| {
            let (start, end) = (self.cpu?, end.cpu?);
            let ticks = end.total.checked_sub(start.total).filter(|&t| t > 0)?;
            let steal = end.steal?.checked_sub(start.steal?)?;
            Some(steal as f64 / ticks as f64)
        })();
        let cpu_pressure = match (self.pressure, end.pressure) {
            (Some(start), Some(end)) if !wall.is_zero() => {
                let waited = end.saturating_sub(start);
                Some((waited.as_secs_f64() / wall.as_secs_f64()).min(1.0))
            }
            _ => None,
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let load_per_core = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .as_deref()
            .and_then(parse_load_average)
            .map(|load| load / cores as f64);
        MachineLoad {
            steal,
            cpu_pressure,
            load_per_core,
            wall,
            run,
        }
    }
}

/// The `cpu` line of `/proc/stat` (the sum over all CPUs).
pub(crate) fn parse_proc_stat(text: &str) -> Option<CpuTimes> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    if fields.len() < 4 {
        return None;
    }
    // user nice system idle iowait irq softirq steal guest guest_nice
    Some(CpuTimes {
        total: fields.iter().take(8).sum(),
        steal: fields.get(7).copied(),
    })
}

/// The `some` line's `total=` (microseconds) of `/proc/pressure/cpu`.
pub(crate) fn parse_cpu_pressure(text: &str) -> Option<Duration> {
    let line = text.lines().find(|l| l.starts_with("some "))?;
    let total = line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("total="))?;
    total.parse().ok().map(Duration::from_micros)
}

/// The 1-minute load average, the first field of `/proc/loadavg`.
pub(crate) fn parse_load_average(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

impl MachineLoad {
    /// Why these figures make the run untrustworthy; empty when they do not (or are
    /// unknown, or cover too short a time to judge).
    pub(crate) fn reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.wall < MIN_JUDGED_WALL || self.wall * 2 < self.run {
            return reasons;
        }
        if let Some(steal) = self.steal.filter(|&s| s > STEAL_LIMIT) {
            reasons.push(format!(
                "CPU steal was {:.0}% of the machine's CPU time (limit {:.0}%): the hypervisor gave this machine's CPUs to other guests, so planrun (and a target on this machine) ran slower than it measured",
                steal * 100.0,
                STEAL_LIMIT * 100.0
            ));
        }
        if let Some(pressure) = self.cpu_pressure.filter(|&p| p > PRESSURE_LIMIT) {
            reasons.push(format!(
                "the machine's CPUs were saturated: some task waited for a CPU {:.0}% of the run (`/proc/pressure/cpu`, limit {:.0}%), so latencies include waiting for planrun's (or a local target's) turn on a CPU",
                pressure * 100.0,
                PRESSURE_LIMIT * 100.0
            ));
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured on a 2-core virtual machine (kernel 6.x).
    const PROC_STAT: &str = "\
cpu  39635 0 12227 114812 2537 0 212 1016 0 0
cpu0 18730 0 5818 59017 1033 0 82 509 0 0
cpu1 20904 0 6408 55794 1504 0 129 506 0 0
intr 4469283 0 9 0 0 0 0 0 0 0 0 0 0 0 0 0 0
ctxt 8519341
btime 1764572400
processes 12498
procs_running 1
procs_blocked 0
softirq 2130477 0 514012 1 135669 0 0 1 794130 0 686664
";

    /// Captured from the same machine.
    const PRESSURE: &str = "\
some avg10=0.05 avg60=3.36 avg300=7.16 total=51710198
full avg10=0.00 avg60=0.00 avg300=0.00 total=0
";

    #[test]
    fn reads_the_all_cpu_line_of_proc_stat() {
        let cpu = parse_proc_stat(PROC_STAT).unwrap();
        assert_eq!(
            cpu.total,
            39635 + 12227 + 114812 + 2537 + 212 + 1016,
            "user nice system idle iowait irq softirq steal"
        );
        assert_eq!(cpu.steal, Some(1016));
    }

    #[test]
    fn a_kernel_without_a_steal_column_has_unknown_steal() {
        // Linux before 2.6.11 wrote seven columns.
        let cpu = parse_proc_stat("cpu  100 0 50 800 10 0 2\n").unwrap();
        assert_eq!((cpu.total, cpu.steal), (962, None));
        assert_eq!(parse_proc_stat("intr 1 2 3\n"), None);
        assert_eq!(parse_proc_stat("cpu  a b c d\n"), None);
    }

    #[test]
    fn reads_the_some_total_of_cpu_pressure() {
        assert_eq!(
            parse_cpu_pressure(PRESSURE),
            Some(Duration::from_micros(51_710_198))
        );
        // Some kernels write only the `some` line for the CPU.
        assert_eq!(
            parse_cpu_pressure("some avg10=1.00 avg60=0.50 avg300=0.10 total=42\n"),
            Some(Duration::from_micros(42))
        );
        assert_eq!(parse_cpu_pressure(""), None);
    }

    #[test]
    fn reads_the_one_minute_load_average() {
        assert_eq!(
            parse_load_average("0.77 1.24 0.68 1/92 12498\n"),
            Some(0.77)
        );
        assert_eq!(parse_load_average(""), None);
    }

    #[test]
    fn only_steal_and_pressure_past_their_limits_give_reasons() {
        let calm = MachineLoad {
            steal: Some(0.02),
            cpu_pressure: Some(0.05),
            load_per_core: Some(0.5),
            wall: Duration::from_secs(10),
            run: Duration::from_secs(10),
        };
        assert!(calm.reasons().is_empty());
        let unknown = MachineLoad {
            wall: Duration::from_secs(10),
            ..MachineLoad::default()
        };
        assert!(unknown.reasons().is_empty());
        let saturated = MachineLoad {
            steal: Some(0.25),
            cpu_pressure: Some(0.9),
            load_per_core: Some(4.5),
            wall: Duration::from_secs(10),
            run: Duration::from_secs(10),
        };
        let reasons = saturated.reasons();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(
            reasons[0].starts_with("CPU steal was 25%"),
            "{}",
            reasons[0]
        );
        assert!(reasons[1].contains("90% of the run"), "{}", reasons[1]);
        // Too short to judge: reported, not held against the run.
        let short = MachineLoad {
            wall: Duration::from_millis(300),
            ..saturated.clone()
        };
        assert!(short.reasons().is_empty());
        // A minute by a paused test clock in ten seconds of wall time: not this run's load.
        let paused = MachineLoad {
            run: Duration::from_secs(60),
            ..saturated
        };
        assert!(paused.reasons().is_empty());
    }

    #[test]
    fn reads_this_machine_where_proc_is_mounted() {
        let start = MachineSnapshot::take();
        let load = start.load_since(Duration::ZERO);
        if std::path::Path::new("/proc/stat").exists() {
            assert!(start.cpu.is_some());
        }
        if let Some(pressure) = load.cpu_pressure {
            assert!((0.0..=1.0).contains(&pressure));
        }
    }
}
