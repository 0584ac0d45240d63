//! `Results::new`: the run's `ExecPlan`, `RunSummary` and verdicts → `Results`.
//! Microseconds become milliseconds here, once, to the microsecond.

use std::time::Duration;

use base64::Engine as _;
use chrono::SubsecRound as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer as _, V2Serializer};

use super::{
    BusinessResult, CheckResult, FailureResult, IntervalResult, IntervalTotals, LatencyResult,
    NameHistoryResult, OnStartResult, OutcomeConflictResult, OutcomeResult, Percentiles, PlanInfo,
    RequestInterval, RequestResult, Results, RunInfo, RunVerdict, SCHEMA_VERSION, SloResult,
    StageResult, Status,
};
use crate::compile::{ExecPlan, Secrets};
use crate::metrics::{PERCENTILES, RequestStats, RunSummary, RunningTotals, SecondStats};
use crate::report::{ReportError, json, open_model};
use crate::slo::Verdict;

impl Results {
    /// `strict`: `--strict`, under which a missed target fails the run.
    pub fn new(
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
        // Kept to the millisecond, as summary.json stores it, so that a live run and a
        // re-render of its JSON show the same times.
        let started_at = summary.started_at.trunc_subsecs(3);
        let duration = summary.duration;
        let ended_at = (summary.started_at
            + chrono::Duration::from_std(duration).unwrap_or_default())
        .trunc_subsecs(3);
        let schedule = &exec.schedule;
        let open = exec.arrivals.is_some();
        let results = Results {
            schema_version: SCHEMA_VERSION,
            planrun_version: env!("CARGO_PKG_VERSION").to_owned(),
            plan: PlanInfo {
                name: exec.name.clone(),
                file: exec.plan_file.display().to_string(),
                host: exec.host.clone(),
                seed: exec.seed,
                resolved: exec.resolved.clone(),
                command: exec.command.clone(),
            },
            run: RunInfo {
                started_at,
                ended_at,
                duration_s: duration.as_secs_f64(),
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
            },
            passed: verdict.status != Status::Fail,
            verdict,
            slos: verdicts.iter().map(|v| slo_result(v, &verdict)).collect(),
            requests: summary
                .requests
                .iter()
                .map(|r| request_result(r, duration, open))
                .collect::<Result<_, _>>()?,
            aggregate: request_result(&summary.total, duration, open)?,
            failures: summary
                .failures
                .iter()
                .map(|f| FailureResult {
                    name: f.name.clone(),
                    method: f.method.clone(),
                    category: f.category.clone(),
                    reason: f.reason.clone(),
                    count: f.count,
                    first_s: f.first_us as f64 / 1e6,
                    last_s: f.last_us as f64 / 1e6,
                })
                .collect(),
            checks: summary
                .checks
                .iter()
                .map(|c| CheckResult {
                    request: c.request.clone(),
                    name: c.name.clone(),
                    passed: c.passed,
                    failed: c.failed,
                    pass_rate: c.pass_rate(),
                })
                .collect(),
            outcomes: summary
                .outcomes
                .iter()
                .map(|o| OutcomeResult {
                    request: o.request.clone(),
                    name: o.name.clone(),
                    count: o.count,
                })
                .collect(),
            metrics: summary
                .business
                .iter()
                .map(|b| BusinessResult {
                    name: b.name.clone(),
                    kind: b.kind.to_owned(),
                    description: b.description.clone(),
                    outcomes: b.outcomes.clone(),
                    count: b.count,
                    attempts: b.attempts,
                    value: b.value,
                })
                .collect(),
            outcome_conflicts: summary
                .outcome_conflicts
                .iter()
                .map(|c| OutcomeConflictResult {
                    request: c.request.clone(),
                    outcomes: c.outcomes.clone(),
                    count: c.count,
                })
                .collect(),
            on_start: exec
                .classes
                .iter()
                .any(|c| !c.on_start.is_empty())
                .then_some(OnStartResult {
                    users_failed: summary.on_start.users_failed,
                    retries: summary.on_start.retries,
                    users_stopped: summary.on_start.users_stopped,
                }),
            series: summary
                .series
                .iter()
                .map(|s| interval_result(s, &summary.requests))
                .collect(),
            notes: open_model::terminal(exec, summary)
                .lines()
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect(),
            open_model: open_model::run_fields(exec, summary),
        };
        scrubbed(results, &exec.secrets)
    }
}

/// `results` with the secrets' values hidden in every string, before any renderer sees
/// them. This is the one place reports are scrubbed: every renderer (files, exports, the
/// terminal) reads only `Results`, and scrubbing here, before each renderer escapes text
/// its own way (CSV quotes, Markdown backslashes, YAML in HTML), leaves no escaped form
/// to chase in the rendered bytes.
fn scrubbed(results: Results, secrets: &Secrets) -> Result<Results, ReportError> {
    if secrets.is_empty() {
        return Ok(results);
    }
    let failed = |e: serde_json::Error| ReportError::Render {
        file: json::FILE,
        source: e.into(),
    };
    let mut value = serde_json::to_value(&results).map_err(failed)?;
    secrets.scrub_json(&mut value);
    serde_json::from_value(value).map_err(failed)
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
        open_model: if open {
            open_model::request_fields(stats, &PERCENTILES, serialize_histogram)?
        } else {
            serde_json::Map::new()
        },
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
fn ms(us: u64) -> f64 {
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
