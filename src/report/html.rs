//! `report.html`: one self-contained page — verdict, SLO table, charts over time, the
//! per-request table, failures and the plan as run. Rendered from
//! `templates/report.html.j2` by minijinja with HTML autoescaping; the chart library
//! (uPlot, `assets/`) and the chart data are embedded, so it opens offline.

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, context};
use serde::Serialize;

use super::results::{IntervalResult, SloResult};
use super::{RenderError, Results, Status, text};
use crate::slo::{Level, Unit};

const TEMPLATE: &str = include_str!("templates/report.html.j2");
const UPLOT_JS: &str = include_str!("assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/uPlot.min.css");

pub fn render(results: &Results) -> Result<Vec<u8>, RenderError> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_filter("latency", |ms: Option<f64>| text::latency(ms));
    env.add_filter("rate", text::rate);
    env.add_filter("duration", text::duration);
    env.add_filter("failures", text::failures);
    env.add_filter("share", text::share);
    env.add_template("report.html", TEMPLATE)?;
    let html = env.get_template("report.html")?.render(context! {
        results,
        status => results.status(),
        word => results.verdict.word(),
        headline => results.headline(),
        // Under --strict a missed target fails the run: its row says so.
        slo_fails => results.slos.iter()
            .map(|s| s.status == Status::Warn && results.verdict.fails(s.status))
            .collect::<Vec<_>>(),
        untrustworthy => results.untrustworthy_reasons,
        tls_warning => text::tls_warning(results),
        machine => results.machine.as_ref().map(text::machine),
        notes => super::open_model::notes(results),
        on_start => results.on_start.filter(|o| o.users_failed > 0)
            .map(|o| text::on_start_failures(&o)),
        conflicts_heading => text::OUTCOME_CONFLICTS,
        outcome_conflicts => results.outcome_conflicts.iter()
            .map(text::outcome_conflict).collect::<Vec<_>>(),
        // A list, not the map: minijinja would iterate a map in key order, not the plan's.
        classes => results.run.users_by_class.iter()
            .map(|(name, users)| context! { name, users })
            .collect::<Vec<_>>(),
        started_at => results.run.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        plan_yaml => crate::plan::to_yaml(&results.plan.resolved),
        charts => Charts::new(results),
        metric_values => results.metrics.iter().map(text::business_value).collect::<Vec<_>>(),
        // With what a latency is over, as every report words it.
        slo_measured => results.slos.iter().map(SloResult::measured_over).collect::<Vec<_>>(),
        uplot_js => Value::from_safe_string(UPLOT_JS.to_owned()),
        uplot_css => Value::from_safe_string(UPLOT_CSS.to_owned()),
    })?;
    Ok(html.into_bytes())
}

/// What the page's script draws: columns over the seconds of the run.
#[derive(Debug, Serialize)]
struct Charts {
    /// Seconds from the start at the end of each interval: a point shows the second
    /// that ends there.
    t: Vec<u64>,
    requests: Vec<u64>,
    failures: Vec<u64>,
    /// The most users running at once in each second.
    users: Vec<u32>,
    p50: Vec<Option<f64>>,
    p95: Vec<Option<f64>>,
    /// Draw the latencies with points: some second stands alone between seconds without
    /// responses, and a line alone would not show it.
    points: bool,
    /// Latency SLOs over all requests, drawn on the aggregate chart.
    thresholds: Vec<ThresholdLine>,
    /// One chart per request name that completed requests.
    by_request: Vec<RequestChart>,
}

#[derive(Debug, Serialize)]
struct RequestChart {
    name: String,
    p50: Vec<Option<f64>>,
    p95: Vec<Option<f64>>,
    /// As `Charts::points`.
    points: bool,
    thresholds: Vec<ThresholdLine>,
}

#[derive(Debug, Serialize)]
struct ThresholdLine {
    /// `SLO p95 < 3s`, `target p95 < 1s`
    label: String,
    ms: f64,
    /// A target (amber: a breach warns) or critical (red: a breach fails).
    level: Level,
    /// Far above the chart's data (more than `OFF_SCALE` times its largest value): drawn
    /// as a labelled marker at the top edge, so the axis stays fitted to the data.
    off_scale: bool,
}

/// A threshold more than this many times the largest value drawn is off the scale.
const OFF_SCALE: f64 = 5.0;

impl Charts {
    fn new(results: &Results) -> Self {
        let series = &results.series;
        let column = |f: &dyn Fn(&IntervalResult) -> Option<f64>| -> Vec<Option<f64>> {
            series.iter().map(f).collect()
        };
        let lines = |scope: Option<&str>, columns: [&[Option<f64>]; 2]| -> Vec<ThresholdLine> {
            let largest = columns
                .iter()
                .flat_map(|c| c.iter().flatten())
                .fold(0.0_f64, |m, &v| m.max(v));
            results
                .slos
                .iter()
                .filter(|slo| slo.unit == Unit::Microseconds)
                .filter(|slo| match scope {
                    Some(name) => slo.scope == name,
                    None => !results.requests.iter().any(|r| r.name == slo.scope),
                })
                .map(|slo| threshold_line(slo, largest))
                .collect()
        };
        let p50 = column(&|s| s.percentiles_ms.get(50.0));
        let p95 = column(&|s| s.percentiles_ms.get(95.0));
        Charts {
            t: series.iter().map(|s| s.second + 1).collect(),
            requests: series.iter().map(|s| s.requests).collect(),
            failures: series.iter().map(|s| s.failures).collect(),
            users: series.iter().map(|s| s.users).collect(),
            points: sparse(&p50) || sparse(&p95),
            thresholds: lines(None, [&p50, &p95]),
            p50,
            p95,
            by_request: results
                .requests
                .iter()
                .filter(|r| r.count > 0)
                .map(|r| {
                    let p50 = column(&|s| s.by_request.get(&r.name).and_then(|i| i.p50_ms));
                    let p95 = column(&|s| s.by_request.get(&r.name).and_then(|i| i.p95_ms));
                    RequestChart {
                        name: r.name.clone(),
                        points: sparse(&p50) || sparse(&p95),
                        thresholds: lines(Some(&r.name), [&p50, &p95]),
                        p50,
                        p95,
                    }
                })
                .collect(),
        }
    }
}

/// Few seconds have a value (at most half of them), or one has none on either side: a
/// line alone would leave it out, or draw a few strokes that read as noise.
fn sparse(values: &[Option<f64>]) -> bool {
    let present = values.iter().filter(|v| v.is_some()).count();
    if present > 0 && present * 2 <= values.len() {
        return true;
    }
    (0..values.len()).any(|i| {
        let present = |j: Option<usize>| j.and_then(|j| values.get(j)).is_some_and(Option::is_some);
        present(Some(i)) && !present(i.checked_sub(1)) && !present(Some(i + 1))
    })
}

fn threshold_line(slo: &SloResult, largest_ms: f64) -> ThresholdLine {
    let ms = slo.threshold / 1000.0;
    let kind = match slo.level {
        Level::Target => "target",
        Level::Critical => "SLO",
    };
    ThresholdLine {
        label: format!(
            "{kind} {} {} {}",
            slo.metric, slo.comparison, slo.threshold_text
        ),
        ms,
        level: slo.level,
        off_scale: largest_ms > 0.0 && ms > OFF_SCALE * largest_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::fixture;

    fn page() -> String {
        String::from_utf8(render(&fixture::results()).unwrap()).unwrap()
    }

    #[test]
    fn open_model_notes_get_their_own_section() {
        assert!(!page().contains("Load and timing"), "no notes, no section");
        let html = String::from_utf8(render(&fixture::open_results()).unwrap()).unwrap();
        assert!(html.contains("<h2>Load and timing</h2>"));
        assert!(html.contains(
            "<pre class=\"notes\">latency above counts from the instant each request was due"
        ));
        assert!(html.contains(
            "burst of 5 `&lt;book&gt;` at 3.0s: 4 succeeded; latency fastest 2ms, median \
             3.5ms, slowest 12.5ms\nrecovery: `health` answered well 3 times in a row 1.5s \
             after the load (4 probes)\nSTOPPED EARLY at 25s: `error-rate &lt; 1%` breached \
             (error-rate 20% in 20s–30s)</pre>"
        ));
    }

    #[test]
    fn says_when_results_cannot_be_trusted_and_what_else_went_wrong() {
        let html = String::from_utf8(render(&fixture::troubled_results()).unwrap()).unwrap();
        for text in [
            "<strong>Results NOT TRUSTWORTHY:</strong>",
            "<li>planrun hit its open-file limit (256): raise it with `ulimit -n`</li>",
            "<li>&lt;b&gt;late&lt;&#x2f;b&gt; | by 2s &amp; more</li>",
            "machine: CPU pressure 12.0% of the run, CPU steal 0.3%, load 1.40 per core",
            concat!(
                "on-start failed for 3 users: they ran no task until it succeeded (12 retries); ",
                "1 stopped (`on-start-failure: stop`)"
            ),
            "outcomes declared exclusive held together",
            "9 responses of `checkout` met exclusive outcomes `created` and `over|lap` together",
        ] {
            assert!(html.contains(text), "{text} not in the page");
        }
        assert!(!page().contains("on-start failed"));
        assert!(!page().contains("exclusive outcomes"));
    }

    /// The page without the embedded library, whose 50 KB would drown the snapshot.
    #[test]
    fn renders_the_fixture() {
        let html = page()
            .replace(UPLOT_JS, "/* uPlot */")
            .replace(UPLOT_CSS, "/* uPlot */");
        insta::assert_snapshot!(html);
    }

    #[test]
    fn names_from_the_plan_are_escaped() {
        let html = page();
        assert!(!html.contains("<b>&"), "a request name was not escaped");
        // minijinja escapes `/` too, which browsers show as `/`.
        assert!(html.contains("&#x2f;search?q=&lt;b&gt;&amp;&quot;x&quot;,y|z"));
        // In the chart data, `<` is escaped too, so a name cannot close the script tag.
        assert!(!html.contains("q=<script>"));
    }

    #[test]
    fn needs_no_network() {
        let html = page();
        for needle in ["src=\"http", "href=\"http", "url(http", "@import"] {
            assert!(!html.contains(needle), "found {needle}");
        }
    }

    /// The data the page's script draws, as embedded in the page.
    fn chart_data(results: &Results) -> serde_json::Value {
        let html = String::from_utf8(render(results).unwrap()).unwrap();
        let start = html.find("id=\"chart-data\">").unwrap() + "id=\"chart-data\">".len();
        let end = start + html[start..].find("</script>").unwrap();
        serde_json::from_str(&html[start..end]).unwrap()
    }

    /// Sparse series get points (a line between no two seconds draws nothing); a target
    /// is told from a critical threshold; a threshold far above the data is a marker at
    /// the edge rather than a reason to squash the data.
    #[test]
    fn sparse_series_have_points_and_thresholds_say_their_kind_and_range() {
        let mut results = fixture::results();
        // `/search` completed requests every second; `checkout` skipped second 2.
        let search = results.requests[1].name.clone();
        results.series[2].by_request.insert(
            search,
            crate::report::results::RequestInterval {
                requests: 5,
                failures: 0,
                p50_ms: Some(3.0),
                p95_ms: Some(6.0),
            },
        );
        let all_p95 = results.slos[2].clone();
        results.slos.push(SloResult {
            slo: "p95 < 100ms".into(),
            threshold: 100_000.0,
            threshold_text: "100ms".into(),
            level: crate::slo::Level::Target,
            ..all_p95.clone()
        });
        results.slos.push(SloResult {
            slo: "p95 < 60s".into(),
            threshold: 60_000_000.0,
            threshold_text: "60s".into(),
            ..all_p95
        });
        let data = chart_data(&results);
        let thresholds = data["thresholds"].as_array().unwrap();
        let kinds: Vec<(f64, &str, bool)> = thresholds
            .iter()
            .map(|t| {
                (
                    t["ms"].as_f64().unwrap(),
                    t["level"].as_str().unwrap_or("?"),
                    t["off_scale"].as_bool().unwrap_or(false),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (500.0, "critical", false),
                (100.0, "target", false),
                (60_000.0, "critical", true)
            ]
        );
        assert_eq!(data["points"], true, "all requests skipped second 2");
        let by_request = data["by_request"].as_array().unwrap();
        assert_eq!(by_request[0]["points"], true, "checkout skipped second 2");
        assert_eq!(by_request[1]["points"], false, "search is a line");
    }

    #[test]
    fn charts_have_thresholds_where_their_scope_is() {
        let charts = Charts::new(&fixture::results());
        assert_eq!(charts.t, [1, 2, 3, 4]);
        assert_eq!(charts.p95, [Some(40.0), Some(220.0), None, Some(110.0)]);
        assert_eq!(charts.thresholds.len(), 1);
        assert_eq!(charts.thresholds[0].label, "SLO p95 < 500ms");
        assert_eq!(charts.by_request.len(), 2, "never-ran has no chart");
        assert_eq!(charts.by_request[0].thresholds[0].ms, 200.0);
        assert_eq!(charts.by_request[0].p95[2], None);
    }
}
