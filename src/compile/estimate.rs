//! How often a `when:` request is sent when its flow reaches it, for `planrun check`'s
//! rate estimate. The condition is split at its top-level `and`s; a part that reads only
//! what a user knows before any response (plan variables, built-ins, functions, `set`
//! steps of `on-start` and of the flow before the request) is sampled by rendering the
//! flow's `set` steps for many simulated users. A part that reads a response (an
//! extraction), a data row, or a variable set elsewhere is unknowable: the share is then
//! an upper bound (`P(a and b) ≤ P(a)`).

use std::collections::HashSet;

use minijinja::Value;

use super::graph::{Action, ExecPlan, UserClass};
use super::templates::{
    BUILTIN_VARIABLES, FUNCTION_NAMES, TemplateId, Templates, Text, UserScope, condition_source,
};

/// Simulated users per estimate: the share is within about ±0.5 % of the truth.
const TRIALS: u64 = 40_000;

/// The share of the flow's passes that send a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Share {
    /// No `when`: always sent.
    Always,
    /// The condition's probability, sampled.
    About(f64),
    /// At most this: part of the condition depends on responses or data.
    AtMost(f64),
}

impl Share {
    /// The share as a fraction (an upper bound for `AtMost`).
    pub(crate) fn fraction(self) -> f64 {
        match self {
            Share::Always => 1.0,
            Share::About(p) | Share::AtMost(p) => p,
        }
    }

    pub(crate) fn is_bound(self) -> bool {
        matches!(self, Share::AtMost(_))
    }
}

/// The share of passes through `class`'s task `task` that send the request at
/// `action` (an index into the task's actions).
pub(crate) fn when_share(exec: &ExecPlan, class: &UserClass, task: usize, action: usize) -> Share {
    let actions = &class.tasks[task].actions;
    let Some(Action::Request(id)) = actions.get(action) else {
        return Share::Always;
    };
    let Some(when) = exec.request(*id).when else {
        return Share::Always;
    };
    let Some(condition) = exec
        .templates
        .source(when)
        .and_then(|s| unwrap_condition(&s))
    else {
        return Share::AtMost(1.0);
    };
    let before: Vec<&Action> = class.on_start.iter().chain(&actions[..action]).collect();
    let (known, sets) = known_before(exec, &before);
    let mut scratch = Templates::new();
    let parts = conjuncts(&condition);
    let knowable = knowable(&mut scratch, &parts, &known);
    if knowable.is_empty() {
        return Share::AtMost(1.0);
    }
    let Ok(Text::Template(test)) = scratch.compile(&condition_source(&knowable.join(" and ")))
    else {
        return Share::AtMost(1.0);
    };
    let share = sampled_share(exec, &class.name, &sets, &scratch, test);
    if knowable.len() == parts.len() {
        Share::About(share)
    } else {
        Share::AtMost(share)
    }
}

/// What the flow knows before a request: the names it can read and its own and
/// on-start's `set`s, in order, unless one reads something unknowable.
fn known_before<'e>(
    exec: &'e ExecPlan,
    before: &[&'e Action],
) -> (HashSet<String>, Vec<(String, &'e Text)>) {
    let mut known: HashSet<String> = exec.globals.var_names().map(str::to_owned).collect();
    known.extend(
        BUILTIN_VARIABLES
            .iter()
            .chain(&FUNCTION_NAMES)
            .map(|n| (*n).to_owned()),
    );
    known.remove("env"); // Known, but a placeholder at `check` when unset: not sampled.
    let mut sets: Vec<(String, &Text)> = Vec::new();
    for step in before {
        match step {
            Action::Set(assignments) => {
                for (name, text) in assignments {
                    if reads_only(&exec.templates, text, &known) {
                        known.insert(name.clone());
                        sets.push((name.clone(), text));
                    } else {
                        known.remove(name);
                    }
                }
            }
            // Extracted variables come from responses.
            Action::Request(id) => {
                for extraction in &exec.request(*id).inspect.extract {
                    known.remove(&extraction.variable);
                }
            }
            Action::Pause(_) => {}
        }
    }
    (known, sets)
}

/// The parts of a condition that read only `known` names.
fn knowable<'a>(
    scratch: &mut Templates,
    parts: &'a [String],
    known: &HashSet<String>,
) -> Vec<&'a str> {
    let mut knowable = Vec::new();
    for part in parts {
        let Ok(Text::Template(id)) = scratch.compile(&condition_source(part)) else {
            continue;
        };
        let roots: HashSet<String> = scratch
            .undeclared(id)
            .into_iter()
            .filter_map(|v| v.split('.').next().map(str::to_owned))
            .collect();
        if roots.iter().all(|root| known.contains(root)) {
            knowable.push(part.as_str());
        }
    }
    knowable
}

/// The share of `TRIALS` users of `class_name` for whom `test` holds once `sets` ran.
fn sampled_share(
    exec: &ExecPlan,
    class_name: &str,
    sets: &[(String, &Text)],
    scratch: &Templates,
    test: TemplateId,
) -> f64 {
    let mut held = 0u64;
    for trial in 0..TRIALS {
        // Not the run's seed (random unless given): `check` shows the same figures each time.
        let seed = trial.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let scope = UserScope::new(trial, class_name, exec.globals.clone(), seed);
        let value = scope.value();
        for (name, text) in sets {
            if let Ok(rendered) = exec.templates.render_text(text, &value) {
                scope.set(name, Value::from(rendered.into_owned()));
            }
        }
        held += u64::from(scratch.holds(test, &value));
    }
    held as f64 / TRIALS as f64
}

/// Whether `text` reads only names in `known`.
fn reads_only(templates: &Templates, text: &Text, known: &HashSet<String>) -> bool {
    match text {
        Text::Static(_) => true,
        Text::Template(id) => templates
            .undeclared(*id)
            .iter()
            .filter_map(|v| v.split('.').next())
            .all(|root| known.contains(root)),
    }
}

/// `COND` from `condition_source(COND)`.
fn unwrap_condition(source: &str) -> Option<String> {
    source
        .strip_prefix("{% if ")?
        .strip_suffix(" %}1{% endif %}")
        .map(str::to_owned)
}

/// The parts of `condition` joined by top-level `and`; the whole condition when a
/// top-level `or` or `if` binds looser than `and` (splitting would change its meaning).
fn conjuncts(condition: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    let words: Vec<(usize, char)> = condition.char_indices().collect();
    let word_at = |i: usize, word: &str| {
        condition[i..].starts_with(word)
            && (i == 0 || !is_word(condition[..i].chars().next_back()))
            && !is_word(condition[i + word.len()..].chars().next())
    };
    for &(i, c) in &words {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ if depth == 0 && (word_at(i, "or") || word_at(i, "if")) => {
                    return vec![condition.trim().to_owned()];
                }
                _ if depth == 0 && word_at(i, "and") => {
                    parts.push(condition[start..i].trim().to_owned());
                    start = i + "and".len();
                }
                _ => {}
            },
        }
    }
    parts.push(condition[start..].trim().to_owned());
    parts
}

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_and_only() {
        assert_eq!(
            conjuncts(r#"code and decision == "confirm""#),
            ["code", r#"decision == "confirm""#]
        );
        assert_eq!(
            conjuncts("(a and b) and 'x and y' == s"),
            ["(a and b)", "'x and y' == s"]
        );
        assert_eq!(conjuncts("a and b or c"), ["a and b or c"]);
        assert_eq!(conjuncts("brand and android"), ["brand", "android"]);
    }
}
