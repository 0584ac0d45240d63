//! A hand-built `Results` with fixed numbers for the renderers' snapshot tests: three SLOs
//! passing (one on a business metric) and one failing, a request name that needs escaping
//! in every format (`<`, `&`, `|`, `,` and quotes), a request name that never ran,
//! failures, a check, an outcome and a business metric, and a second with no responses.

use chrono::{TimeZone, Utc};
use indexmap::IndexMap;

use super::*;
use crate::metrics::PERCENTILES;
use crate::slo::Unit;

pub(crate) fn results() -> Results {
    let started_at = Utc
        .with_ymd_and_hms(2026, 11, 26, 18, 0, 0)
        .single()
        .expect("a valid date")
        + chrono::Duration::milliseconds(250);
    let mut results = Results {
        schema_version: SCHEMA_VERSION,
        planrun_version: "0.1.0".into(),
        tls: None,
        plan: PlanInfo {
            name: "checkout".into(),
            file: "plans/checkout.yaml".into(),
            host: "http://127.0.0.1:8000".into(),
            seed: 42,
            resolved: serde_json::json!({
                "name": "checkout",
                "host": "http://127.0.0.1:8000",
                "classes": {"Buyer": {"tasks": {"search": {"path": "/search?q=<script>"}}}},
                "load": {"users": 4, "spawn-rate": "4/s", "run-time": "4s"},
            }),
            command: None,
        },
        run: RunInfo {
            started_at,
            ended_at: started_at + chrono::Duration::milliseconds(4_500),
            duration_s: 4.5,
            interrupted: false,
            peak_users: 4,
            users_by_class: [("Buyer".to_owned(), 4)].into_iter().collect(),
            stages: vec![StageResult {
                name: "ramp".into(),
                start_s: 0.0,
                end_s: 4.0,
                from_users: 0,
                to_users: 4,
            }],
        },
        passed: false,
        verdict: RunVerdict::unrecorded(),
        slos: vec![
            slo(
                "all requests",
                "error-rate",
                "<",
                Some(0.0125),
                0.05,
                Unit::Fraction,
            ),
            slo(
                "checkout",
                "p95",
                "<",
                Some(250_000.0),
                200_000.0,
                Unit::Microseconds,
            ),
            slo(
                "all requests",
                "p95",
                "<",
                Some(240_000.0),
                500_000.0,
                Unit::Microseconds,
            ),
            slo(
                "booking-success-rate",
                "rate",
                ">",
                Some(29.0 / 30.0),
                0.95,
                Unit::Fraction,
            ),
        ],
        requests: vec![
            request("checkout", "POST", 30, 1, [80.0, 95.5, 250.0, 260.0]),
            request(
                r#"/search?q=<b>&"x",y|z"#,
                "GET",
                50,
                0,
                [2.0, 4.0, 5.5, 9.875],
            ),
            RequestResult {
                count: 0,
                rps: 0.0,
                average_content_bytes: 0.0,
                latency: LatencyResult {
                    min_ms: None,
                    mean_ms: None,
                    max_ms: None,
                    percentiles_ms: Percentiles::new([None; PERCENTILES.len()]),
                    histogram: "HISTFAIQAAAAAQAAAAAAAAAD".into(),
                },
                ..request("never-ran", "GET", 0, 0, [0.0; 4])
            },
        ],
        aggregate: request("Aggregated", "", 80, 1, [2.0, 6.0, 240.0, 260.0]),
        failures: vec![FailureResult {
            name: "checkout".into(),
            method: "POST".into(),
            category: "status".into(),
            reason: "unexpected status 500".into(),
            count: 1,
            first_s: 2.125,
            last_s: 2.125,
        }],
        checks: vec![CheckResult {
            request: "checkout".into(),
            name: "has-code".into(),
            passed: 28,
            failed: 2,
            pass_rate: Some(28.0 / 30.0),
        }],
        outcomes: vec![OutcomeResult {
            request: "checkout".into(),
            name: "created".into(),
            count: 29,
        }],
        metrics: vec![BusinessResult {
            name: "booking-success-rate".into(),
            kind: "rate".into(),
            description: Some("checkouts that created a booking".into()),
            outcomes: vec!["checkout.created".into()],
            count: 29,
            attempts: Some(30),
            value: Some(29.0 / 30.0),
        }],
        outcome_conflicts: Vec::new(),
        on_start: None,
        series: vec![
            interval(0, 1, 10, 0, Some([3.0, 40.0, 90.0])),
            interval(1, 3, 30, 1, Some([5.0, 220.0, 260.0])),
            interval(2, 4, 0, 0, None),
            interval(3, 4, 40, 0, Some([4.0, 110.0, 130.0])),
        ],
        latency_measure: LatencyMeasure::Service,
        arrivals: None,
        bursts: Vec::new(),
        recovery: None,
        aborted: None,
        trustworthy: None,
        untrustworthy_reasons: Vec::new(),
        cpu_busy: None,
        machine: None,
    };
    // As `Results::new` judges it: one critical SLO failed, not strict.
    results.verdict = results.judged_from_slos();
    results
}

fn slo(
    scope: &str,
    metric: &str,
    comparison: &str,
    measured: Option<f64>,
    threshold: f64,
    unit: Unit,
) -> SloResult {
    let text = |value: f64| match unit {
        Unit::Fraction => format!("{}%", (value * 10_000.0).round() / 100.0),
        Unit::Microseconds => format!("{}ms", value / 1000.0),
        Unit::PerSecond => format!("{value}/s"),
        Unit::Count => format!("{value}"),
    };
    let passed = measured.is_some_and(|m| match comparison {
        "<" => m < threshold,
        _ => m > threshold,
    });
    SloResult {
        slo: format!("{scope}: {metric} {comparison} {}", text(threshold)),
        scope: scope.into(),
        metric: metric.into(),
        comparison: comparison.into(),
        measured,
        threshold,
        unit,
        measured_text: measured.map_or("no requests".into(), text),
        threshold_text: text(threshold),
        passed,
        level: crate::slo::Level::Critical,
        window: None,
        status: if passed { Status::Pass } else { Status::Fail },
        // Latency SLOs say what they are over: here, one request refused and left out.
        responses: (unit == Unit::Microseconds).then_some(11),
        without_response: (unit == Unit::Microseconds).then_some(1),
    }
}

/// `[min, median, p95, max]` in milliseconds; the other percentiles lie between.
fn request(name: &str, method: &str, count: u64, failures: u64, ms: [f64; 4]) -> RequestResult {
    let [min, median, p95, max] = ms;
    let between = |a: f64, b: f64, t: f64| ((a + (b - a) * t) * 1000.0).round() / 1000.0;
    RequestResult {
        name: name.into(),
        method: method.into(),
        count,
        failures,
        rps: count as f64 / 4.5,
        failures_per_s: failures as f64 / 4.5,
        average_content_bytes: 512.5,
        service_percentiles_ms: None,
        service_histogram: None,
        latency: LatencyResult {
            min_ms: Some(min),
            mean_ms: Some(between(median, p95, 0.25)),
            max_ms: Some(max),
            percentiles_ms: Percentiles::new([
                Some(median),
                Some(between(median, p95, 0.3)),
                Some(between(median, p95, 0.5)),
                Some(between(median, p95, 0.6)),
                Some(between(median, p95, 0.8)),
                Some(p95),
                Some(between(p95, max, 0.3)),
                Some(between(p95, max, 0.6)),
                Some(between(p95, max, 0.9)),
                Some(max),
                Some(max),
            ]),
            // Renderers never decode the histogram; it only has to survive a round trip.
            histogram: "HISTFAIQAAAAAQAAAAAAAAAD".into(),
        },
    }
}

/// `[p50, p95, max]` of the second in milliseconds, `None` for a second with no responses.
fn interval(
    second: u64,
    users: u32,
    requests: u64,
    failures: u64,
    ms: Option<[f64; 3]>,
) -> IntervalResult {
    let [p50, p95, max] = ms.unwrap_or_default();
    let percentiles = ms.map(|_| [p50, p50, p50, p95, p95, p95, max, max, max, max, max]);
    let before: u64 = [0, 10, 40, 40][second as usize];
    let mut by_request = IndexMap::new();
    if requests > 0 {
        by_request.insert(
            "checkout".to_owned(),
            RequestInterval {
                requests: requests * 3 / 8,
                failures,
                p50_ms: Some(p95),
                p95_ms: Some(max),
            },
        );
        by_request.insert(
            r#"/search?q=<b>&"x",y|z"#.to_owned(),
            RequestInterval {
                requests: requests - requests * 3 / 8,
                failures: 0,
                p50_ms: Some(p50),
                p95_ms: Some(p50 * 2.0),
            },
        );
    }
    let max_so_far = if second >= 1 { 260.0 } else { 90.0 };
    let p95_so_far = 35.0 + 20.0 * second as f64;
    IntervalResult {
        second,
        requests,
        failures,
        p50_ms: p50,
        p95_ms: p95,
        max_ms: max,
        users,
        percentiles_ms: Percentiles::new(match percentiles {
            Some(set) => set.map(Some),
            None => [None; PERCENTILES.len()],
        }),
        total: IntervalTotals {
            count: before + requests,
            failures: u64::from(second >= 1),
            min_ms: 2.0,
            mean_ms: 31.5 + second as f64,
            median_ms: 6.0,
            max_ms: max_so_far,
            average_content_bytes: 512.5,
            percentiles_ms: Percentiles::new([
                Some(6.0),
                Some(8.0),
                Some(10.0),
                Some(12.0),
                Some(20.0),
                Some(p95_so_far),
                Some(p95_so_far + 10.0),
                Some(p95_so_far + 20.0),
                Some(max_so_far),
                Some(max_so_far),
                Some(max_so_far),
            ]),
        },
        by_request,
        history: Vec::new(),
    }
}

/// Names and reasons that try to attack whoever reads the reports: terminal escapes (a
/// title change, a colour), NUL, a right-to-left override, CR/LF, Markdown and a
/// spreadsheet formula.
pub(crate) const HOSTILE_NAME: &str =
    "=cmd|' /C calc'!A0\u{1b}]0;owned\u{7}\u{1b}[31m\0\u{202e}gpj.exe\r\n| **x** [a](b)";

/// `results()` with a request, a failure and a reason named `HOSTILE_NAME`.
pub(crate) fn hostile_results() -> Results {
    let mut results = results();
    results.requests[0].name = HOSTILE_NAME.to_owned();
    results.requests[0].method = "-GET".to_owned();
    results.failures[0].name = HOSTILE_NAME.to_owned();
    results.failures[0].reason = format!("@SUM(1+1) {HOSTILE_NAME}");
    results
}

/// `results()` from a run that cannot be trusted (planrun ran short of open files, and a
/// reason with markup), on a busy machine, whose users' on-start failed and whose
/// exclusive outcomes held together: what every report must show beside the verdict.
pub(crate) fn troubled_results() -> Results {
    let mut results = results();
    results.trustworthy = Some(false);
    results.untrustworthy_reasons = vec![
        "planrun hit its open-file limit (256): raise it with `ulimit -n`".into(),
        "<b>late</b> | by 2s & more".into(),
    ];
    results.machine = Some(MachineResult {
        cpu_steal: Some(0.003),
        cpu_pressure: Some(0.12),
        load_per_core: Some(1.4),
        wall_s: 4.0,
        timers: 1204,
        timer_lag_p99_ms: Some(0.812),
        timer_lag_max_ms: Some(3.2),
    });
    results.outcome_conflicts = vec![OutcomeConflictResult {
        request: "checkout".into(),
        outcomes: vec!["created".into(), "over|lap".into()],
        count: 9,
    }];
    results.on_start = Some(OnStartResult {
        users_failed: 3,
        retries: 12,
        users_stopped: 1,
    });
    results
}

/// `results()` from an open-model run with a burst and a recovery probe that an `abort`
/// SLO stopped early: what `open_model::notes` renders.
pub(crate) fn open_results() -> Results {
    let mut results = results();
    results.latency_measure = LatencyMeasure::Corrected;
    let service = |ms: f64| {
        let set = [1.0, 1.0, 1.5, 1.5, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 8.0];
        Percentiles::new(set.map(|factor| Some(ms * factor)))
    };
    for (request, ms) in results.requests.iter_mut().zip([40.0, 1.0, 0.0]) {
        request.service_percentiles_ms = Some(service(ms));
        request.service_histogram = Some("HISTFAIQAAAAAQAAAAAAAAAD".into());
    }
    results.aggregate.service_percentiles_ms = Some(service(2.0));
    results.aggregate.service_histogram = Some("HISTFAIQAAAAAQAAAAAAAAAD".into());
    results.arrivals = Some(ArrivalsResult {
        spacing: ArrivalSpacing::Uniform,
        expected: 90.0,
        max_in_flight: 100,
        sessions: 10,
        stages: vec![ArrivalStageResult {
            name: "hold".into(),
            start_s: 0.0,
            end_s: 4.5,
            from_per_s: 20.0,
            to_per_s: 20.0,
        }],
        due: 90,
        started: 80,
        dropped: 10,
        lag_p99_ms: 0.5,
        lag_max_ms: 1.25,
    });
    results.bursts = vec![BurstResult {
        name: "<book>".into(),
        at_s: 3.0,
        size: 5,
        succeeded: 4,
        fastest_ms: 2.0,
        median_ms: 3.5,
        slowest_ms: 12.5,
    }];
    results.recovery = Some(RecoveryResult {
        request: "health".into(),
        successes: 3,
        recovered_after_s: Some(1.5),
        probes: 4,
    });
    results.aborted = Some(AbortedResult {
        slo: "error-rate < 1%".into(),
        at_s: 25.0,
        reason: "error-rate 20% in 20s–30s".into(),
    });
    results
}
