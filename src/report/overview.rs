//! `planrun check`: the compiled graph as people read it — users per class at the peak,
//! each task's share of requests, the stage timeline, the SLOs, and the request rate the
//! plan can offer at the peak (so "1000 req/min" can be checked before running).

use std::fmt::Write as _;

use crate::compile::estimate::{self, Share};
use crate::compile::{Action, BusinessKind, ExecPlan, Task};
use crate::engine;
use crate::units::format_duration;

/// The overview `planrun check` prints for a valid plan.
pub fn render(exec: &ExecPlan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan `{}` ({}) is valid",
        exec.name,
        exec.plan_file.display()
    );
    let _ = writeln!(out, "  host {}   seed {}", exec.host, exec.seed);
    if let Some(arrivals) = &exec.arrivals {
        out.push_str(&super::open_model::overview(exec, arrivals));
    } else {
        let rates = classes(&mut out, exec);
        stages(&mut out, exec);
        rates.write(&mut out);
        out.push_str(&super::open_model::beside_the_load(exec));
    }
    threads(&mut out, exec);
    slos(&mut out, exec);
    out
}

/// Users per class at the peak, each with its tasks; returns the request rates they offer.
fn classes(out: &mut String, exec: &ExecPlan) -> PeakRates {
    let peak = exec.schedule.peak();
    let _ = writeln!(out, "\nusers at peak: {peak}");
    let mut rates = PeakRates::default();
    for (class, &users) in exec.classes.iter().zip(&exec.mix.per_class) {
        let share = if peak == 0 {
            0.0
        } else {
            f64::from(users) * 100.0 / f64::from(peak)
        };
        let _ = writeln!(
            out,
            "  {:<28} {:>6} users ({share:.1}%)   weight {}   think {}",
            class.name, users, class.weight, class.think
        );
        let task_rate = class.think.tasks_per_second();
        rates.unbounded |= task_rate.is_none() && users > 0;
        for (index, (task, share)) in class.tasks.iter().zip(class.picker.shares()).enumerate() {
            // How often each `when` step is sent when the flow reaches it.
            let sent: Vec<Share> = (0..task.actions.len())
                .map(|action| estimate::when_share(exec, class, index, action))
                .collect();
            let _ = writeln!(
                out,
                "      {:<26} weight {:>3}  {:>5.1}% of the class's tasks  → {}",
                task.name,
                task.weight,
                share * 100.0,
                task_requests(exec, task, &sent)
            );
            if let Some(rate) = task_rate {
                rates.add_task(exec, task, &sent, rate * f64::from(users) * share);
            }
        }
    }
    rates
}

/// A task's requests as `POST pre-reserve (when: ≤ 25%)`, given how often each action is
/// sent when the flow reaches it.
fn task_requests(exec: &ExecPlan, task: &Task, sent: &[Share]) -> String {
    let requests: Vec<String> = task
        .actions
        .iter()
        .zip(sent)
        .filter_map(|(a, share)| match a {
            Action::Request(id) => {
                let spec = exec.request(*id);
                let conditional = match share {
                    Share::Always => String::new(),
                    Share::About(p) => format!(" (when: {:.0}%)", p * 100.0),
                    Share::AtMost(p) => format!(" (when: ≤ {:.0}%)", p * 100.0),
                };
                Some(format!(
                    "{} {}{conditional}",
                    spec.method,
                    exec.request_name(spec.name).name
                ))
            }
            Action::Set(_) | Action::Pause(_) => None,
        })
        .collect();
    requests.join(", ")
}

/// The stage timeline, with the run's total length and graceful stop.
fn stages(out: &mut String, exec: &ExecPlan) {
    let _ = writeln!(
        out,
        "\nstages (total {}, graceful stop {}):",
        format_duration(exec.schedule.total),
        format_duration(exec.schedule.graceful_stop)
    );
    for line in exec.schedule.describe() {
        let _ = writeln!(out, "  {line}");
    }
}

/// The request rates a closed-model plan offers at the peak, were responses instant.
#[derive(Default)]
struct PeakRates {
    /// Per request name: requests per second, and whether that is only an upper bound.
    rates: Vec<(String, f64, bool)>,
    /// Some users have no think time: they send as fast as the target answers.
    unbounded: bool,
}

impl PeakRates {
    /// Adds a task's requests, the task being run `tasks_per_second` times a second.
    fn add_task(&mut self, exec: &ExecPlan, task: &Task, sent: &[Share], tasks_per_second: f64) {
        for (action, sent) in task.actions.iter().zip(sent) {
            if let Action::Request(id) = action {
                let name = exec.request_name(exec.request(*id).name).name.clone();
                let rate = tasks_per_second * sent.fraction();
                self.add(name, rate, sent.is_bound());
            }
        }
    }

    /// Adds `rate` (an upper bound when `bound`) to the request name's rate.
    fn add(&mut self, name: String, rate: f64, bound: bool) {
        match self.rates.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, r, b)) => {
                *r += rate;
                *b |= bound;
            }
            None => self.rates.push((name, rate, bound)),
        }
    }

    /// The table: each name's rate per second and per minute and its share, then the total.
    fn write(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\nexpected request rate at peak (if responses were instant; slower responses lower it):"
        );
        let total: f64 = self.rates.iter().map(|(_, r, _)| r).sum();
        let any_bound = self.rates.iter().any(|(_, _, bound)| *bound);
        for (name, rate, bound) in &self.rates {
            let share = if total > 0.0 {
                rate * 100.0 / total
            } else {
                0.0
            };
            let _ = writeln!(
                out,
                "  {name:<40} {:>11} {:>13}  {share:>5.1}%",
                per(*rate, *bound, "s", 2),
                per(rate * 60.0, *bound, "min", 0),
            );
        }
        let _ = writeln!(
            out,
            "  {:<40} {:>11} {:>13}",
            "total",
            per(total, any_bound, "s", 2),
            per(total * 60.0, any_bound, "min", 0),
        );
        if any_bound {
            let _ = writeln!(
                out,
                "  (≤: a `when` condition depends on responses or data, so the rate is at most this)"
            );
        }
        if self.unbounded {
            let _ = writeln!(
                out,
                "  (+ users without think time: as fast as the target answers)"
            );
        }
    }
}

/// The engine's worker threads on this machine, and why (see `engine::worker_threads`).
fn threads(out: &mut String, exec: &ExecPlan) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = engine::worker_threads(exec, cores);
    let why = match engine::offered_rate(exec) {
        Some(rate) if rate <= engine::ONE_THREAD_UP_TO => format!(
            "the plan offers at most {rate:.0} req/s; one thread is cheaper up to {:.0} req/s",
            engine::ONE_THREAD_UP_TO
        ),
        Some(rate) => format!("the plan offers up to {rate:.0} req/s"),
        None => "users without think time, or bursts: as fast as the target answers".to_owned(),
    };
    let _ = writeln!(
        out,
        "
engine: {threads} worker thread{} ({why}; `--threads N` overrides)",
        if threads == 1 { "" } else { "s" }
    );
}

fn slos(out: &mut String, exec: &ExecPlan) {
    let _ = writeln!(out, "\nSLOs:");
    if exec.slos.is_empty() {
        let _ = writeln!(out, "  none: the run passes whatever it measures");
    }
    for slo in &exec.slos {
        let level = match slo.level {
            crate::slo::Level::Target => "  (target: WARN)",
            crate::slo::Level::Critical => "",
        };
        let abort = match slo.abort_after {
            Some(grace) if grace.is_zero() => "  (abort)".to_owned(),
            Some(grace) => format!("  (abort after {})", format_duration(grace)),
            None => String::new(),
        };
        let _ = writeln!(out, "  {}{level}{abort}", slo.label());
    }
    if !exec.business.is_empty() {
        let _ = writeln!(out, "\nbusiness metrics:");
        for metric in &exec.business {
            let outcomes: Vec<String> = metric
                .outcomes
                .iter()
                .map(|id| {
                    let o = &exec.outcomes[id.0 as usize];
                    format!("{}.{}", o.request, o.name)
                })
                .collect();
            let kind = match metric.kind {
                BusinessKind::Rate { .. } => "rate of",
                BusinessKind::Count => "count of",
            };
            let _ = writeln!(out, "  {:<28} {kind} {}", metric.name, outcomes.join(" + "));
        }
    }
    open_files(out, exec);
    let warnings = exec.secrets.warnings();
    if !warnings.is_empty() {
        out.push('\n');
        for warning in warnings {
            let _ = writeln!(out, "{warning}");
        }
    }
    if !exec.unset_env.is_empty() {
        let _ = writeln!(
            out,
            "\nnote: not set here, and needed to run: {} (with --sample-api, the sample API's webhook secrets stand in)",
            exec.unset_env
                .iter()
                .map(|n| format!("env.{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// A warning when the plan would run out of file descriptors on this machine (planrun
/// raises its soft limit to the hard one at start: the hard one is what counts).
fn open_files(out: &mut String, exec: &ExecPlan) {
    if let Some(warning) = engine::open_file_warning(exec, engine::open_file_limit()) {
        let _ = writeln!(out, "\n{warning}");
    }
}

/// `1.27/s`, or `≤ 0.95/s` for an upper bound.
fn per(rate: f64, bound: bool, unit: &str, decimals: usize) -> String {
    let bound = if bound { "≤ " } else { "" };
    format!("{bound}{rate:.decimals$}/{unit}")
}
