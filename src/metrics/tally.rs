//! `Tally`: the recorder task's state. Folds each `Event` into histograms, counters, the
//! open second and the failure log; `into_summary` turns it into the `RunSummary` once
//! the engine has finished and said how the run ended.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;
use tokio_util::sync::CancellationToken;

use super::business::BusinessTally;
use super::failure_log::FailureLog;
use super::history_window::HistoryWindow;
use super::honesty::{ArrivalStats, LoadHonesty};
use super::machine::MachineLoad;
use super::recorder::{LinePrinter, LiveSnapshot};
use super::series::Series;
use super::summary::{
    FailureCount, OnStartStats, RequestSecond, RequestStats, RunSummary, RunningTotals,
    SecondStats, new_histogram, percentile_set,
};
use super::windows::Windows;
use crate::compile::{ExecPlan, RequestNameId};
use crate::engine::{
    BurstOutcome, EngineOutcome, Event, Failure, LocalLimit, OnStartEvent, Sample,
};

/// Distinct (request, failure) pairs kept apart in the summary; any further ones are
/// counted under one "other reasons" entry per request.
const MAX_FAILURE_REASONS: usize = 1000;

/// The second being filled, before it joins the series.
struct OpenSecond {
    second: u64,
    requests: u64,
    failures: u64,
    latency: Histogram<u64>,
    /// The same, per request name (index = `RequestNameId`).
    per_request: Vec<RequestStats>,
    /// The most users running at once in this second. Not the count at its end: users
    /// leave as the run ends, and the last second of load would show none while its
    /// requests were being sent.
    peak_users: u32,
}

struct FailureTally {
    count: u64,
    first_us: u64,
    last_us: u64,
}

/// The recorder's state.
pub(super) struct Tally {
    per_request_name: Vec<RequestStats>,
    total: RequestStats,
    failures: HashMap<(RequestNameId, Failure), FailureTally>,
    open: OpenSecond,
    series: Series,
    users: u32,
    peak_users: u32,
    pub(super) log: FailureLog,
    printer: LinePrinter,
    business: BusinessTally,
    windows: Windows,
    arrivals: Option<ArrivalStats>,
    bursts: Vec<BurstOutcome>,
    /// Requests that failed on planrun's own resources, by the limit they hit.
    local_failures: BTreeMap<LocalLimit, u64>,
    /// How late closed-model think-time timers fired, in microseconds; `None` until one did.
    timer_lag: Option<Histogram<u64>>,
    on_start: OnStartStats,
    /// Only with full history: the last ten seconds per request name.
    pub(super) history: Option<HistoryWindow>,
}

impl Tally {
    pub(super) fn new(
        exec: &ExecPlan,
        series: Series,
        printer: LinePrinter,
        abort: CancellationToken,
    ) -> Self {
        let per_request_name: Vec<RequestStats> = exec
            .request_names
            .iter()
            .map(|m| RequestStats::new(m.name.clone(), m.method.as_str()))
            .collect();
        Self {
            total: RequestStats::new("Aggregated", ""),
            failures: HashMap::new(),
            open: OpenSecond {
                second: 0,
                requests: 0,
                failures: 0,
                latency: new_histogram(),
                per_request: per_request_name.clone(),
                peak_users: 0,
            },
            per_request_name,
            series,
            users: 0,
            peak_users: 0,
            log: FailureLog::new(exec.secrets.clone()),
            printer,
            business: BusinessTally::new(exec),
            windows: Windows::new(&exec.slos, abort),
            arrivals: exec.arrivals.as_ref().map(|_| ArrivalStats::default()),
            bursts: Vec::new(),
            local_failures: BTreeMap::new(),
            timer_lag: None,
            on_start: OnStartStats::default(),
            history: None,
        }
    }

    pub(super) fn print(&self, lines: Vec<String>) {
        lines.iter().for_each(|line| (self.printer)(line));
    }

    pub(super) fn record(&mut self, event: Event) {
        match event {
            Event::Sample(sample) => self.record_sample(sample),
            Event::Users { active } => {
                self.users = active;
                self.peak_users = self.peak_users.max(active);
                self.open.peak_users = self.open.peak_users.max(active);
            }
            Event::Arrival { lag_us, dropped } => {
                let arrivals = self.arrivals.get_or_insert_with(ArrivalStats::default);
                arrivals.due += 1;
                arrivals.dropped += u64::from(dropped);
                arrivals.lag.saturating_record(lag_us);
            }
            Event::Timer { late_us } => {
                self.timer_lag
                    .get_or_insert_with(new_histogram)
                    .saturating_record(late_us);
            }
            Event::ArrivalsDropped { count } => {
                let arrivals = self.arrivals.get_or_insert_with(ArrivalStats::default);
                arrivals.due += count;
                arrivals.dropped += count;
            }
            Event::Burst(outcome) => self.bursts.push(outcome),
            Event::OnStart(event) => match event {
                OnStartEvent::Failed { first } => self.on_start.users_failed += u64::from(first),
                OnStartEvent::Retried => self.on_start.retries += 1,
                OnStartEvent::Stopped => self.on_start.users_stopped += 1,
            },
        }
    }

    fn record_sample(&mut self, sample: Sample) {
        let finished_second = sample.finished_us() / 1_000_000;
        self.close_seconds_before(finished_second);
        // A request that was never sent (its template failed) has no latency to record.
        let sent = !matches!(sample.failure, Some(Failure::Template(_)));
        // Latency SLOs judge only the times that measure the target (`has_response_time`).
        let answered = sample
            .failure
            .as_ref()
            .is_none_or(Failure::has_response_time);
        let failed = sample.failure.is_some();
        let metric = sample.name.0 as usize;
        let latency_us = sample.latency_us();
        for stats in [&mut self.per_request_name[metric], &mut self.total] {
            stats.count += 1;
            stats.failures += u64::from(failed);
            stats.bytes += sample.bytes;
            if sent {
                stats.record_times(latency_us, sample.service_us, answered);
            }
        }
        // This second's tally of the request name: for the series, not for SLOs.
        let second = &mut self.open.per_request[metric];
        second.count += 1;
        second.failures += u64::from(failed);
        second.bytes += sample.bytes;
        if sent {
            second.latency.saturating_record(latency_us);
            second.service.saturating_record(sample.service_us);
        }
        self.open.requests += 1;
        self.open.failures += u64::from(failed);
        if sent {
            self.open.latency.saturating_record(latency_us);
        }
        if let Some(inspected) = &sample.inspected {
            self.business.record(inspected);
        }
        self.windows.record(
            sample.name,
            finished_second,
            answered.then_some((latency_us, sample.service_us)),
            failed,
        );
        let at = sample.finished_us();
        if let Some(failure) = sample.failure {
            self.record_failure(sample.name, failure, at);
        }
    }

    /// A failed request, `at` microseconds into the run: logged, and counted by reason.
    fn record_failure(&mut self, metric: RequestNameId, mut failure: Failure, at: u64) {
        let name = &self.per_request_name[metric.0 as usize].name;
        if let Some(line) = self.log.record(name, &failure, Duration::from_micros(at)) {
            (self.printer)(&line);
        }
        if let Failure::LocalResources(limit) = &failure {
            *self.local_failures.entry(*limit).or_default() += 1;
        }
        // Messages that vary per request (a rendered path in a template error) must not
        // grow the map with run length: past the cap, new ones are counted together.
        if self.failures.len() >= MAX_FAILURE_REASONS
            && !self.failures.contains_key(&(metric, failure.clone()))
        {
            failure = Failure::Other(format!(
                "other reasons (more than {MAX_FAILURE_REASONS} distinct ones)"
            ));
        }
        self.failures
            .entry((metric, failure))
            .and_modify(|f| {
                f.count += 1;
                f.last_us = f.last_us.max(at);
                f.first_us = f.first_us.min(at);
            })
            .or_insert(FailureTally {
                count: 1,
                first_us: at,
                last_us: at,
            });
    }

    /// Moves every second before `second` into the series (empty seconds included: a
    /// second with no responses is a finding, not a gap).
    pub(super) fn close_seconds_before(&mut self, second: u64) {
        while self.open.second < second {
            let latency = &self.open.latency;
            let empty = latency.is_empty();
            let history = match &mut self.history {
                Some(window) => window.close_second(
                    self.open
                        .per_request
                        .iter()
                        .map(|r| &r.latency)
                        .chain([latency]),
                    self.per_request_name.iter().chain([&self.total]),
                ),
                None => Vec::new(),
            };
            self.series.push(SecondStats {
                second: self.open.second,
                requests: self.open.requests,
                failures: self.open.failures,
                p50_us: if empty {
                    0
                } else {
                    latency.value_at_quantile(0.5)
                },
                p95_us: if empty {
                    0
                } else {
                    latency.value_at_quantile(0.95)
                },
                max_us: if empty { 0 } else { latency.max() },
                users: self.open.peak_users,
                percentiles_us: percentile_set(latency),
                total: RunningTotals::of(&self.total),
                by_request: self
                    .open
                    .per_request
                    .iter()
                    .map(RequestSecond::of)
                    .collect(),
                history,
            });
            self.windows.close_second(self.open.second);
            self.open.latency.reset();
            self.open
                .per_request
                .iter_mut()
                .for_each(RequestStats::clear);
            self.open.requests = 0;
            self.open.failures = 0;
            self.open.peak_users = self.users;
            self.open.second += 1;
        }
    }

    pub(super) fn snapshot(&self, elapsed: Duration) -> LiveSnapshot {
        let last = self.series.last();
        LiveSnapshot {
            elapsed,
            users: self.users,
            requests: self.total.count,
            failures: self.total.failures,
            last_second_requests: last.map_or(0, |s| s.requests),
            last_second_p95_us: last.map_or(0, |s| s.p95_us),
        }
    }

    pub(super) fn into_summary(
        mut self,
        started_at: DateTime<Utc>,
        engine: EngineOutcome,
        cpu_busy: Option<f64>,
        machine: MachineLoad,
    ) -> RunSummary {
        let EngineOutcome {
            duration,
            interrupted,
            recovery,
        } = engine;
        // Close every whole second, and the last, partial one when a response completed
        // in it. Without one, it is the few milliseconds the users took to stop: drawn as
        // a whole second with no requests and no users, it showed a ramp-down the plan
        // does not have.
        let mut end = duration.as_secs();
        if self.open.requests > 0 {
            end = end.max(self.open.second + 1);
        }
        // The last second is partial: windows ending in it cover only up to the end.
        self.windows.ends_at(duration.as_micros() as u64);
        self.close_seconds_before(end);
        let failures = failure_counts(self.failures, &self.per_request_name);
        let outcome_conflicts = self.business.conflicts();
        let (checks, outcomes, business) = self.business.finish(&self.per_request_name);
        let (windows, aborted) = self.windows.finish(duration.as_micros() as u64);
        let mut honesty = LoadHonesty {
            arrivals: self.arrivals,
            cpu_busy,
            local_failures: self.local_failures.into_iter().collect(),
            timer_lag: self.timer_lag,
            // Read at the end: what the run had, after planrun raised it at start.
            open_files: crate::engine::open_file_limit(),
            machine,
            ..LoadHonesty::default()
        };
        honesty.assess();
        RunSummary {
            started_at,
            duration,
            interrupted,
            checks,
            outcomes,
            business,
            outcome_conflicts,
            on_start: self.on_start,
            requests: self.per_request_name,
            total: self.total,
            failures,
            series: self.series.into_vec(),
            peak_users: self.peak_users,
            windows,
            aborted,
            bursts: self.bursts,
            recovery,
            honesty,
        }
    }
}

/// Failures by request name and reason, most frequent first.
fn failure_counts(
    failures: HashMap<(RequestNameId, Failure), FailureTally>,
    per_request_name: &[RequestStats],
) -> Vec<FailureCount> {
    let mut counts: Vec<FailureCount> = failures
        .into_iter()
        .map(|((metric, failure), tally)| {
            let stats = &per_request_name[metric.0 as usize];
            FailureCount {
                name: stats.name.clone(),
                method: stats.method.clone(),
                category: failure.category().to_owned(),
                reason: failure.to_string(),
                count: tally.count,
                first_us: tally.first_us,
                last_us: tally.last_us,
            }
        })
        .collect();
    counts.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    counts
}
