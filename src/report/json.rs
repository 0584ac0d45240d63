//! `summary.json`: the run's results in a stable, versioned schema (see the README).
//! Latencies in milliseconds; the HDR histograms are included (base64 of the V2
//! serialisation) so reports can be re-rendered and runs merged without losing precision.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer as _, V2Serializer};
use serde_json::{Map, Value, json};

use super::RunReport;
use crate::metrics::RequestStats;

/// Bumped on any incompatible change to the layout below.
pub const SCHEMA_VERSION: u32 = 1;

/// The percentiles reported per request name (Locust's set).
pub const PERCENTILES: [f64; 11] = [
    50.0, 66.0, 75.0, 80.0, 90.0, 95.0, 98.0, 99.0, 99.9, 99.99, 100.0,
];

pub fn render(report: &RunReport) -> std::io::Result<Vec<u8>> {
    let value = to_value(report)?;
    let mut bytes = serde_json::to_vec_pretty(&value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

pub fn to_value(report: &RunReport) -> std::io::Result<Value> {
    let summary = report.summary;
    let exec = report.exec;
    let duration = summary.duration;
    let ended_at = summary.started_at + chrono::Duration::from_std(duration).unwrap_or_default();
    let requests: Vec<Value> = summary
        .requests
        .iter()
        .map(|r| request_stats(r, duration))
        .collect::<Result<_, _>>()?;
    let mut value = json!({
        "schema_version": SCHEMA_VERSION,
        "planrun_version": env!("CARGO_PKG_VERSION"),
        "plan": {
            "name": exec.name,
            "file": exec.plan_file.display().to_string(),
            "host": exec.host,
            "seed": exec.seed,
            "resolved": exec.resolved,
        },
        "run": {
            "started_at": summary.started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "ended_at": ended_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "duration_s": duration.as_secs_f64(),
            "interrupted": summary.interrupted,
            "peak_users": summary.peak_users,
            "users_by_class": exec.classes.iter().zip(&exec.mix.per_class)
                .map(|(c, n)| (c.name.clone(), Value::from(*n))).collect::<Map<_, _>>(),
            "stages": exec.schedule.stages.iter().filter(|s| s.start < exec.schedule.total).map(|s| json!({
                "name": s.name,
                "start_s": s.start.as_secs_f64(),
                "end_s": s.end().min(exec.schedule.total).as_secs_f64(),
                "from_users": s.from_users,
                "to_users": s.to_users,
            })).collect::<Vec<_>>(),
        },
        "passed": report.passed(),
        "slos": report.verdicts,
        "requests": requests,
        "aggregate": request_stats(&summary.total, duration)?,
        "failures": summary.failures.iter().map(|f| json!({
            "name": f.name,
            "method": f.method,
            "category": f.category,
            "reason": f.reason,
            "count": f.count,
            "first_s": f.first_us as f64 / 1e6,
            "last_s": f.last_us as f64 / 1e6,
        })).collect::<Vec<_>>(),
        "series": summary.series.iter().map(|s| json!({
            "second": s.second,
            "requests": s.requests,
            "failures": s.failures,
            "p50_ms": ms(s.p50_us as f64),
            "p95_ms": ms(s.p95_us as f64),
            "max_ms": ms(s.max_us as f64),
            "users": s.users,
        })).collect::<Vec<_>>(),
    });
    if let Some(object) = value.as_object_mut() {
        object.extend(super::open_model::run_fields(report));
    }
    Ok(value)
}

fn request_stats(stats: &RequestStats, duration: std::time::Duration) -> std::io::Result<Value> {
    let secs = duration.as_secs_f64().max(f64::EPSILON);
    let percentiles: Map<String, Value> = PERCENTILES
        .iter()
        .map(|&p| (trim(p), json!(stats.percentile_us(p).map(|v| ms(v as f64)))))
        .collect();
    let mut value = json!({
        "name": stats.name,
        "method": stats.method,
        "count": stats.count,
        "failures": stats.failures,
        "rps": stats.count as f64 / secs,
        "failures_per_s": stats.failures as f64 / secs,
        "min_ms": stats.min_us().map(|v| ms(v as f64)),
        "mean_ms": stats.mean_us().map(ms),
        "max_ms": stats.max_us().map(|v| ms(v as f64)),
        "percentiles_ms": percentiles,
        "average_content_bytes": stats.average_bytes(),
        "histogram": serialize_histogram(&stats.latency)?,
    });
    if let Some(object) = value.as_object_mut() {
        object.extend(super::open_model::request_fields(stats, &PERCENTILES)?);
    }
    Ok(value)
}

/// Microseconds as milliseconds, to the microsecond.
fn ms(us: f64) -> f64 {
    us.round() / 1000.0
}

fn trim(p: f64) -> String {
    let text = format!("{p}");
    text.trim_end_matches(".0").to_owned()
}

/// Base64 of hdrhistogram's V2 serialisation (microseconds).
pub fn serialize_histogram(histogram: &Histogram<u64>) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .map_err(|e| std::io::Error::other(format!("serialising a histogram: {e:?}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}
