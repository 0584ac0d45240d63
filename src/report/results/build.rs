//! `Results::new`: the run's `ExecPlan`, `RunSummary` and verdicts → `Results`.
//! Microseconds become milliseconds here, once, to the microsecond.

use std::time::Duration;

use base64::Engine as _;
use chrono::SubsecRound as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer as _, V2Serializer};

use super::{
    BusinessResult, CheckResult, FailureResult, IntervalResult, IntervalTotals, LatencyMeasure,
    LatencyResult, NameHistoryResult, OnStartResult, OutcomeConflictResult, OutcomeResult,
    Percentiles, PlanInfo, RequestInterval, RequestResult, Results, RunInfo, RunVerdict,
    SCHEMA_VERSION, SloResult, StageResult, Status, TlsResult, load,
};
use crate::compile::{ExecPlan, TlsVersion};
use crate::metrics::{
    BusinessValue, CheckStats, FailureCount, OutcomeConflict, OutcomeStats, PERCENTILES,
    RequestStats, RunSummary, RunningTotals, SecondStats,
};
use crate::report::ReportError;
use crate::slo::Verdict;

impl Results {
    /// `strict`: `--strict`, under which a missed target fails the run. Every string is
    /// scrubbed of the plan's secrets before any renderer sees it (`scrub.rs`).
    pub(crate) fn new(
        exec: &ExecPlan,
        summary: &RunSummary,
        verdicts: &[Verdict],
        strict: bool,
    ) -> Result<Self, ReportError> {
        let verdict = RunVerdict::judge(
            verdicts.iter().map(|v| v.status),
            strict,
            summary.aborted.is_some(),
            summary.interrupted,
        );
        let duration = summary.duration;
        let open = exec.arrivals.is_some();
        let honesty = &summary.honesty;
        let results = Results {
            schema_version: SCHEMA_VERSION,
            planrun_version: env!("CARGO_PKG_VERSION").to_owned(),
            plan: plan_info(exec),
            run: run_info(exec, summary),
            tls: tls_result(exec),
            passed: verdict.status != Status::Fail,
            verdict,
            slos: verdicts.iter().map(|v| slo_result(v, &verdict)).collect(),
            requests: summary
                .requests
                .iter()
                .map(|r| request_result(r, duration, open))
                .collect::<Result<_, _>>()?,
            aggregate: request_result(&summary.total, duration, open)?,
            failures: summary.failures.iter().map(failure_result).collect(),
            checks: summary.checks.iter().map(check_result).collect(),
            outcomes: summary.outcomes.iter().map(outcome_result).collect(),
            metrics: summary.business.iter().map(business_result).collect(),
            outcome_conflicts: summary
                .outcome_conflicts
                .iter()
                .map(conflict_result)
                .collect(),
            on_start: on_start_result(exec, summary),
            series: summary
                .series
                .iter()
                .map(|s| interval_result(s, &summary.requests))
                .collect(),
            latency_measure: latency_measure(open),
            arrivals: load::arrivals(exec, summary),
            bursts: summary.bursts.iter().map(load::burst).collect(),
            recovery: summary.recovery.as_ref().map(load::recovery),
            aborted: summary.aborted.as_ref().map(load::aborted),
            trustworthy: Some(honesty.trustworthy()),
            untrustworthy_reasons: honesty.reasons.clone(),
            cpu_busy: honesty.cpu_busy,
            machine: Some(load::machine(summary)),
        };
        Ok(results.scrubbed(&exec.secrets))
    }
}

/// What latency SLOs judge: from the intended send time in the open model (corrected for
/// coordinated omission), the service time in the closed model.
fn latency_measure(open: bool) -> LatencyMeasure {
    if open {
        LatencyMeasure::Corrected
    } else {
        LatencyMeasure::Service
    }
}

/// The plan's TLS set-up, for an `https://` target.
fn tls_result(exec: &ExecPlan) -> Option<TlsResult> {
    if !exec.host.starts_with("https://") {
        return None;
    }
    let tls = &exec.tls;
    Some(TlsResult {
        verified: !tls.insecure,
        ca_file: tls.ca_file.as_ref().map(|f| f.display().to_string()),
        client_certificate: tls.client_auth.is_some(),
        server_name: tls.server_name.as_ref().map(|n| n.to_str().into_owned()),
        min_version: match tls.min_version {
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        }
        .to_owned(),
    })
}

fn plan_info(exec: &ExecPlan) -> PlanInfo {
    PlanInfo {
        name: exec.name.clone(),
        file: exec.plan_file.display().to_string(),
        host: exec.host.clone(),
        seed: exec.seed,
        resolved: exec.resolved.clone(),
        command: exec.command.clone(),
    }
}

fn run_info(exec: &ExecPlan, summary: &RunSummary) -> RunInfo {
    // Kept to the millisecond, as summary.json stores it, so that a live run and a
    // re-render of its JSON show the same times.
    let started_at = summary.started_at.trunc_subsecs(3);
    let ended_at = (summary.started_at
        + chrono::Duration::from_std(summary.duration).unwrap_or_default())
    .trunc_subsecs(3);
    let schedule = &exec.schedule;
    RunInfo {
        started_at,
        ended_at,
        duration_s: summary.duration.as_secs_f64(),
        interrupted: summary.interrupted,
        peak_users: summary.peak_users,
        users_by_class: exec
            .classes
            .iter()
            .zip(&exec.mix.per_class)
            .map(|(class, &users)| (class.name.clone(), users))
            .collect(),
        stages: schedule
            .stages
            .iter()
            .filter(|s| s.start < schedule.total)
            .map(|s| StageResult {
                name: s.name.clone(),
                start_s: s.start.as_secs_f64(),
                end_s: s.end().min(schedule.total).as_secs_f64(),
                from_users: s.from_users,
                to_users: s.to_users,
            })
            .collect(),
    }
}

fn failure_result(f: &FailureCount) -> FailureResult {
    FailureResult {
        name: f.name.clone(),
        method: f.method.clone(),
        category: f.category.clone(),
        reason: f.reason.clone(),
        count: f.count,
        first_s: f.first_us as f64 / 1e6,
        last_s: f.last_us as f64 / 1e6,
    }
}

fn check_result(c: &CheckStats) -> CheckResult {
    CheckResult {
        request: c.request.clone(),
        name: c.name.clone(),
        passed: c.passed,
        failed: c.failed,
        pass_rate: c.pass_rate(),
    }
}

fn outcome_result(o: &OutcomeStats) -> OutcomeResult {
    OutcomeResult {
        request: o.request.clone(),
        name: o.name.clone(),
        count: o.count,
    }
}

fn business_result(b: &BusinessValue) -> BusinessResult {
    BusinessResult {
        name: b.name.clone(),
        kind: b.kind.to_owned(),
        description: b.description.clone(),
        outcomes: b.outcomes.clone(),
        count: b.count,
        attempts: b.attempts,
        value: b.value,
    }
}

fn conflict_result(c: &OutcomeConflict) -> OutcomeConflictResult {
    OutcomeConflictResult {
        request: c.request.clone(),
        outcomes: c.outcomes.clone(),
        count: c.count,
    }
}

/// `None` when the plan has no `on-start`.
fn on_start_result(exec: &ExecPlan, summary: &RunSummary) -> Option<OnStartResult> {
    exec.classes
        .iter()
        .any(|c| !c.on_start.is_empty())
        .then_some(OnStartResult {
            users_failed: summary.on_start.users_failed,
            retries: summary.on_start.retries,
            users_stopped: summary.on_start.users_stopped,
        })
}

fn slo_result(verdict: &Verdict, run: &RunVerdict) -> SloResult {
    SloResult {
        slo: verdict.slo.clone(),
        scope: verdict.scope.clone(),
        metric: verdict.metric.clone(),
        comparison: verdict.comparison.clone(),
        measured: verdict.measured,
        threshold: verdict.threshold,
        unit: verdict.unit,
        measured_text: verdict.measured_text.clone(),
        threshold_text: verdict.threshold_text.clone(),
        passed: !run.fails(verdict.status),
        level: verdict.level,
        window: verdict.window.clone(),
        status: verdict.status,
        responses: verdict.responses,
        without_response: verdict.without_response,
    }
}

/// `open`: an open-model run, whose requests also carry their service time.
fn request_result(
    stats: &RequestStats,
    duration: Duration,
    open: bool,
) -> Result<RequestResult, ReportError> {
    let secs = duration.as_secs_f64();
    let per_second = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    Ok(RequestResult {
        name: stats.name.clone(),
        method: stats.method.clone(),
        count: stats.count,
        failures: stats.failures,
        rps: per_second(stats.count),
        failures_per_s: per_second(stats.failures),
        average_content_bytes: stats.average_bytes(),
        latency: LatencyResult {
            min_ms: stats.min_us().map(ms),
            mean_ms: stats.mean_us().map(ms_f),
            max_ms: stats.max_us().map(ms),
            percentiles_ms: Percentiles::new(PERCENTILES.map(|p| stats.percentile_us(p).map(ms))),
            histogram: serialize_histogram(&stats.latency)?,
        },
        service_percentiles_ms: open
            .then(|| Percentiles::new(PERCENTILES.map(|p| stats.service_percentile_us(p).map(ms)))),
        service_histogram: open
            .then(|| serialize_histogram(&stats.service))
            .transpose()?,
    })
}

fn interval_result(second: &SecondStats, requests: &[RequestStats]) -> IntervalResult {
    IntervalResult {
        second: second.second,
        requests: second.requests,
        failures: second.failures,
        p50_ms: ms(second.p50_us),
        p95_ms: ms(second.p95_us),
        max_ms: ms(second.max_us),
        users: second.users,
        percentiles_ms: percentiles(second.percentiles_us),
        total: interval_totals(&second.total),
        by_request: requests
            .iter()
            .zip(&second.by_request)
            .filter(|(_, s)| s.requests > 0)
            .map(|(r, s)| {
                let interval = RequestInterval {
                    requests: s.requests,
                    failures: s.failures,
                    p50_ms: s.p50_us.map(ms),
                    p95_ms: s.p95_us.map(ms),
                };
                (r.name.clone(), interval)
            })
            .collect(),
        history: second
            .history
            .iter()
            .zip(
                requests
                    .iter()
                    .map(|r| (r.name.as_str(), r.method.as_str()))
                    .chain([("Aggregated", "")]),
            )
            .map(|(h, (name, method))| NameHistoryResult {
                name: name.to_owned(),
                method: method.to_owned(),
                total: interval_totals(&h.totals),
                window_percentiles_ms: percentiles(h.window_us),
            })
            .collect(),
    }
}

fn interval_totals(total: &RunningTotals) -> IntervalTotals {
    IntervalTotals {
        count: total.requests,
        failures: total.failures,
        min_ms: ms(total.min_us),
        mean_ms: ms_f(total.mean_us),
        median_ms: ms(total.p50_us),
        max_ms: ms(total.max_us),
        average_content_bytes: if total.requests == 0 {
            0.0
        } else {
            total.bytes as f64 / total.requests as f64
        },
        percentiles_ms: percentiles(total.percentiles_us),
    }
}

/// `null`s when nothing was measured.
fn percentiles(set: Option<[u64; PERCENTILES.len()]>) -> Percentiles {
    Percentiles::new(match set {
        Some(set) => set.map(|us| Some(ms(us))),
        None => [None; PERCENTILES.len()],
    })
}

/// Whole microseconds as milliseconds.
pub(super) fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Microseconds as milliseconds, to the microsecond.
fn ms_f(us: f64) -> f64 {
    us.round() / 1000.0
}

/// Base64 of hdrhistogram's V2 serialisation (microseconds).
fn serialize_histogram(histogram: &Histogram<u64>) -> Result<String, ReportError> {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .map_err(|e| ReportError::Histogram(format!("{e:?}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}
