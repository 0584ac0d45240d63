//! `planrun check` estimates a `when:` request's rate with the condition's probability
//! where it is knowable, and marks the figure as an upper bound (`≤`) where it is not.

use std::process::Command;

use crate::support::{repo, write_plan};

/// The rate table's row for `name`: whether it is an upper bound, and its rate per second.
fn rate(output: &str, name: &str) -> (bool, f64) {
    let table = output
        .split("expected request rate at peak")
        .nth(1)
        .expect("a rate table");
    let row = table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in {table}"));
    let figure = row[name.len() + 2..].trim_start();
    let bound = figure.starts_with('≤');
    let number = figure
        .trim_start_matches('≤')
        .trim_start()
        .split("/s")
        .next()
        .unwrap()
        .trim();
    (bound, number.parse().unwrap_or_else(|_| panic!("{row}")))
}

fn check(plan: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_planrun"))
        .arg("check")
        .arg(plan)
        .env_remove("PLANRUN_HOST")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_journey_splits_confirm_and_cancel_three_to_one_as_upper_bounds() {
    let output = check(&repo().join("plans/journey.yaml"));
    // 14 booking users, a task every 2s, `book` 2 of 11: 1.27 pre-reservations per second.
    assert_eq!(rate(&output, "pre-reserve"), (false, 1.27), "{output}");
    // `code and decision == "confirm"`: `code` comes from a response (unknowable), the
    // decision is confirm 3 times in 4: at most 0.95/s; cancel at most 0.32/s.
    let (bound, confirm) = rate(&output, "confirm");
    assert!(bound, "{output}");
    assert!((confirm - 0.95).abs() <= 0.02, "{output}");
    let (bound, cancel) = rate(&output, "cancel");
    assert!(bound, "{output}");
    assert!((cancel - 0.32).abs() <= 0.02, "{output}");
    let total = output
        .lines()
        .find(|l| l.trim_start().starts_with("total"))
        .unwrap();
    assert!(total.contains('≤'), "{total}");
}

#[test]
fn a_condition_on_set_variables_alone_is_estimated_exactly() {
    let file = write_plan(
        "plan.yaml",
        "host: http://127.0.0.1:8000
classes:
  A:
    think-time: constant 1s
    tasks:
      pick:
        steps:
          - set: { side: \"{{ choice(['left', 'right', 'right', 'right']) }}\" }
          - { name: left, path: /left, when: side == \"left\" }
          - { name: right, path: /right, when: side == \"right\" and user_id >= 0 }
load: { users: 10, run-time: 10s }
",
    );
    let output = check(&file.path);
    let (bound, left) = rate(&output, "left");
    assert!(!bound, "{output}");
    assert!((left - 2.5).abs() <= 0.1, "{output}");
    let (bound, right) = rate(&output, "right");
    assert!(!bound, "{output}");
    assert!((right - 7.5).abs() <= 0.1, "{output}");
    let total = output
        .lines()
        .find(|l| l.trim_start().starts_with("total"))
        .unwrap();
    assert!(!total.contains('≤'), "{total}");
}
