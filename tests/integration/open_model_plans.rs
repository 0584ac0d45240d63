//! Plan mistakes in the open-model, burst, recovery and time-aware SLO keys: each is
//! reported with its key path, `line:col`, what was expected, and a "did you mean".

use indoc::indoc;
use planrun::compile::{self, Overrides};
use planrun::plan::{PlanError, PlanErrorKind};

use crate::support::write_plan;

fn errors(text: &str) -> Vec<PlanError> {
    let file = write_plan("plan.yaml", text);
    let result = planrun::plan::load(&file.path, &[])
        .and_then(|loaded| compile::compile(&loaded, &Overrides::default()));
    match result {
        Ok(_) => panic!("the plan compiled"),
        Err(errors) => errors.iter().cloned().collect(),
    }
}

/// The one error, with its key path and `line:col`.
fn only(text: &str) -> (PlanErrorKind, String, (usize, usize), Option<String>) {
    let errors = errors(text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    let at = e.position.map(|p| (p.line, p.col)).expect("located");
    (e.kind.clone(), e.path.to_string(), at, e.hint.clone())
}

const HEAD: &str = indoc! {r#"
    host: http://127.0.0.1:1
    classes:
      A:
        tasks:
          prereserve: { method: POST, path: /book, body: "{}" }
          health: { path: /health }
"#};

#[test]
fn a_misspelt_open_model_key_suggests_the_right_one() {
    let (kind, path, at, hint) = only(&format!(
        "{HEAD}load: {{ rate: 10/s, run-time: 1m, max-inflight: 5 }}\n"
    ));
    assert!(matches!(kind, PlanErrorKind::UnknownKey { ref key, .. } if key == "max-inflight"));
    assert_eq!(path, "load.max-inflight");
    assert_eq!(at, (7, 35));
    assert_eq!(hint.as_deref(), Some("did you mean `max-in-flight`?"));
}

#[test]
fn a_per_task_rate_for_an_unknown_task_suggests_one() {
    let (kind, path, at, hint) = only(&format!(
        "{HEAD}load:\n  rate: {{ prereserv: 1000/min }}\n  run-time: 1m\n"
    ));
    assert_eq!(
        kind,
        PlanErrorKind::UnknownTask {
            name: "prereserv".into()
        }
    );
    assert_eq!(path, "load.rate.prereserv");
    assert_eq!(at, (8, 22));
    assert_eq!(hint.as_deref(), Some("did you mean `prereserve`?"));
}

#[test]
fn unknown_arrivals_and_users_in_an_arrival_stage_are_errors() {
    let (kind, path, at, hint) = only(&format!(
        "{HEAD}load: {{ rate: 1/s, run-time: 1m, arrivals: poison }}\n"
    ));
    assert!(
        matches!(kind, PlanErrorKind::BadLoad { ref message } if message.contains("expected `uniform` or `poisson`"))
    );
    assert_eq!((path.as_str(), at), ("load.arrivals", (7, 44)));
    assert_eq!(hint.as_deref(), Some("did you mean `poisson`?"));

    let (kind, path, at, _) = only(&format!(
        "{HEAD}load:\n  stages:\n    - {{ rate: 10/s, duration: 1m }}\n    - {{ users: 10, duration: 1m }}\n"
    ));
    assert!(
        matches!(kind, PlanErrorKind::BadLoad { ref message } if message.contains("stages set `rate`"))
    );
    assert_eq!((path.as_str(), at), ("load.stages[1].users", (10, 16)));
}

#[test]
fn an_slo_during_an_unknown_stage_suggests_one() {
    let (kind, path, at, hint) = only(&format!(
        "{HEAD}load:\n  stages:\n    - {{ name: spike-hold, users: 5, duration: 10s }}\nslos:\n  - {{ during: spike-hodl, check: p95 < 1s }}\n"
    ));
    assert_eq!(
        kind,
        PlanErrorKind::UnknownStage {
            name: "spike-hodl".into()
        }
    );
    assert_eq!((path.as_str(), at), ("slos[0].during", (11, 15)));
    assert_eq!(hint.as_deref(), Some("did you mean `spike-hold`?"));
}

#[test]
fn abort_needs_a_window_and_windows_need_their_words() {
    let base = format!("{HEAD}load: {{ rate: 1/s, run-time: 1m }}\nslos:\n");
    let (kind, path, _, _) = only(&format!(
        "{base}  - {{ check: error-rate < 5%, abort: true }}\n"
    ));
    assert!(
        matches!(kind, PlanErrorKind::BadSlo { ref message, .. } if message.contains("needs a windowed check"))
    );
    assert_eq!(path, "slos[0].abort");

    let (kind, path, at, _) = only(&format!("{base}  - error-rate < 5% over 30s\n"));
    assert!(
        matches!(kind, PlanErrorKind::BadSlo { ref message, .. } if message.contains("`over any DURATION`"))
    );
    assert_eq!((path.as_str(), at), ("slos[0]", (9, 5)));

    let (kind, path, _, _) = only(&format!(
        "{base}  - {{ target: p95 drift < 30% over 10m }}\n"
    ));
    assert!(
        matches!(kind, PlanErrorKind::BadSlo { ref message, .. } if message.contains("first DURATION vs last DURATION"))
    );
    assert_eq!(path, "slos[0].target");
}

#[test]
fn a_recovery_slo_needs_a_probe_and_a_probe_needs_a_known_request() {
    let (kind, path, _, _) = only(&format!(
        "{HEAD}load: {{ rate: 1/s, run-time: 1m }}\nslos:\n  - recovery < 5m\n"
    ));
    assert!(
        matches!(kind, PlanErrorKind::BadSlo { ref message, .. } if message.contains("needs `load.recovery`"))
    );
    assert_eq!(path, "slos");

    let (kind, path, at, hint) = only(&format!(
        "{HEAD}load:\n  rate: 1/s\n  run-time: 1m\n  recovery: {{ request: helth }}\n"
    ));
    assert_eq!(
        kind,
        PlanErrorKind::NoSuchRequest {
            name: "helth".into()
        }
    );
    assert_eq!((path.as_str(), at), ("load.recovery.request", (10, 24)));
    assert_eq!(hint.as_deref(), Some("did you mean `health`?"));

    let (kind, path, _, _) = only(&format!(
        "{HEAD}load:\n  rate: 1/s\n  run-time: 1m\n  bursts: [ {{ request: prereserve, size: 10, at: 2m }} ]\n"
    ));
    assert!(
        matches!(kind, PlanErrorKind::BadLoad { ref message } if message.contains("after the load has ended"))
    );
    assert_eq!(path, "load.bursts[0].at");
}
