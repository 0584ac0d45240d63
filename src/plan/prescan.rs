//! A cheap pass over a YAML plan's events before it is parsed for real: refuses what the
//! parser would take long over, or take silently.
//!
//! - nesting deeper than `MAX_DEPTH` (the parser's work grows with the square of the depth:
//!   100,000 levels took minutes to refuse), stopped at the first event too deep;
//! - aliases that expand to far more values than were written ("billion laughs"), located
//!   at the alias that crossed the line (the parser refuses them too, but says nowhere);
//! - a key written twice in one map, which YAML parsers resolve by keeping the last one
//!   silently (TOML refuses it; so do we), with both positions.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};

use super::locate::{CharOffsets, Span};

/// Plans nest about ten levels deep (`classes.A.tasks.t.steps[0].extract.code.json`);
/// `vars` holding JSON documents add a few more. 64 is far beyond any real plan and far
/// below where the parser slows down.
pub const MAX_DEPTH: usize = 64;

/// Values (scalars, lists and maps) one plan file may hold. Hand-written plans hold
/// hundreds to a few thousand; each value costs about a kilobyte by the time the plan is
/// compiled (the value tree, its positions, the template globals), so this keeps a plan
/// file's load under 200 MB. 4 MiB of one-line `vars` held 720,000 and took 680 MB.
pub const MAX_VALUES: usize = 100_000;

/// Values an alias may add, beyond those written: `max(ALIAS_FLOOR, ALIAS_FACTOR ×
/// written)`, capped by `ALIAS_CEILING`. Sharing a header map between classes adds
/// tens; an expansion bomb adds billions. The factor keeps this check stricter than the
/// parser's own (which counts alias jumps against 100 × events), so ours speaks first.
pub const ALIAS_FACTOR: usize = 50;
pub const ALIAS_FLOOR: usize = 1_000;
pub const ALIAS_CEILING: usize = 100_000;

/// What the pre-scan refused, and where (byte spans in the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    TooManyValues {
        at: Span,
    },
    TooDeep {
        at: Span,
    },
    AliasBomb {
        at: Span,
        values: usize,
        limit: usize,
    },
    DuplicateKey {
        key: String,
        first: Span,
        again: Span,
    },
}

/// An open map or list: its size so far (nodes, aliases expanded), its anchor, and for a
/// map, the keys seen and whether the next scalar is a key.
struct Open {
    anchor: usize,
    size: usize,
    keys: Option<HashMap<String, Span>>,
    expect_key: bool,
}

/// Scans the first document of `text`. Syntax errors are left to the parser, which
/// reports them with its own messages: the scan stops at the first one.
pub fn scan(text: &str) -> Vec<Refusal> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let offsets = CharOffsets::new(text, text.len() - body.len());
    let mut parser = Parser::new_from_str(body);
    let mut stack: Vec<Open> = Vec::new();
    let mut anchored: HashMap<usize, usize> = HashMap::new();
    let mut written = 0usize;
    // Aliases in order, with the values expanded up to and including each.
    let mut expansions: Vec<(Span, usize)> = Vec::new();
    let mut expanded = 0usize;
    let mut refusals = Vec::new();
    loop {
        let (event, mark) = match parser.next_token() {
            Ok((Event::DocumentEnd | Event::StreamEnd, _)) => break,
            // The scanner counts flow levels in a byte: past 255 is too deep too.
            Err(error) if error.info().contains("recursion limit") => {
                let at = offsets.byte(error.marker());
                refusals.push(Refusal::TooDeep {
                    at: Span { start: at, end: at },
                });
                return refusals;
            }
            Err(_) => break,
            Ok(next) => next,
        };
        let at = offsets.byte(&mark);
        let point = Span { start: at, end: at };
        let (size, anchor, key_text) = match event {
            Event::SequenceStart(..) | Event::MappingStart(..) | Event::Scalar(..)
                if written >= MAX_VALUES =>
            {
                refusals.push(Refusal::TooManyValues { at: point });
                return refusals;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                written += 1;
                let is_map = matches!(event, Event::MappingStart(..));
                if stack.len() >= MAX_DEPTH {
                    refusals.push(Refusal::TooDeep { at: point });
                    return refusals;
                }
                stack.push(Open {
                    anchor,
                    size: 1,
                    keys: is_map.then(HashMap::new),
                    expect_key: true,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = stack.pop() else { break };
                (open.size, open.anchor, None)
            }
            Event::Scalar(value, _, anchor, _) => {
                written += 1;
                (1, anchor, Some(value))
            }
            Event::Alias(id) => {
                let size = anchored.get(&id).copied().unwrap_or(1);
                expanded = expanded.saturating_add(size);
                expansions.push((alias_span(text, at), expanded));
                (size, 0, None)
            }
            _ => continue,
        };
        if anchor > 0 {
            anchored.insert(anchor, size);
        }
        let Some(parent) = stack.last_mut() else {
            continue;
        };
        parent.size = parent.size.saturating_add(size);
        if let Some(keys) = &mut parent.keys {
            if parent.expect_key {
                if let Some(key) = key_text {
                    let span = Span {
                        start: at,
                        end: key_end(text, at, &key),
                    };
                    if let Some(first) = keys.get(&key) {
                        refusals.push(Refusal::DuplicateKey {
                            key,
                            first: *first,
                            again: span,
                        });
                    } else {
                        keys.insert(key, span);
                    }
                }
            }
            parent.expect_key = !parent.expect_key;
        }
    }
    let limit = written
        .saturating_mul(ALIAS_FACTOR)
        .clamp(ALIAS_FLOOR, ALIAS_CEILING);
    if expanded > limit {
        if let Some((at, values)) = expansions.iter().find(|(_, total)| *total > limit) {
            refusals.push(Refusal::AliasBomb {
                at: *at,
                values: *values,
                limit,
            });
        }
    }
    refusals
}

/// `*name`: the alias as written.
fn alias_span(text: &str, at: usize) -> Span {
    let rest = text.get(at..).unwrap_or_default();
    let len = rest
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_whitespace() || matches!(c, ',' | ']' | '}'))
        .map_or(rest.len(), |(i, _)| i);
    Span {
        start: at,
        end: at + len,
    }
}

/// The end of a key written at `at`: its text when plain, up to the closing quote when
/// quoted (best effort; the start is what matters).
fn key_end(text: &str, at: usize, key: &str) -> usize {
    let rest = text.get(at..).unwrap_or_default();
    if rest.starts_with(key) {
        return at + key.len();
    }
    match rest.chars().next() {
        Some(quote @ ('"' | '\'')) => rest[1..].find(quote).map_or(at + 1, |close| at + close + 2),
        _ => at + rest.find(':').unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_written_twice_is_refused_with_both_positions() {
        let text = "load:\n  users: 1\n  users: 2\nclasses: {A: {}, A: {}}\n";
        let refusals = scan(text);
        assert_eq!(
            refusals,
            vec![
                Refusal::DuplicateKey {
                    key: "users".into(),
                    first: Span { start: 8, end: 13 },
                    again: Span { start: 19, end: 24 },
                },
                Refusal::DuplicateKey {
                    key: "A".into(),
                    first: Span { start: 38, end: 39 },
                    again: Span { start: 45, end: 46 },
                },
            ]
        );
    }

    #[test]
    fn the_same_key_in_different_maps_is_fine() {
        assert!(
            scan("a: {x: 1}\nb: {x: 1}\nc: [{x: 1}, {x: 2}]\nd: &d {x: 1}\ne: *d\n").is_empty()
        );
    }

    #[test]
    fn too_many_values_are_refused_at_the_first_one_over() {
        let text: String = (0..MAX_VALUES).map(|i| format!("k{i}: 1\n")).collect();
        let refusals = scan(&text);
        let [Refusal::TooManyValues { at }] = refusals[..] else {
            panic!("{refusals:?}")
        };
        // The root map and 50,000 pairs less one value make 100,000: the value of the
        // last key is the first one over.
        assert!(
            text[at.start..].starts_with("1\nk50000"),
            "{}",
            &text[at.start..at.start + 12]
        );
        let fine: String = (0..MAX_VALUES / 2 - 1)
            .map(|i| format!("k{i}: 1\n"))
            .collect();
        assert!(scan(&fine).is_empty());
    }

    #[test]
    fn deep_nesting_is_refused_at_once() {
        let deep = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        let refusals = scan(&deep);
        assert!(matches!(refusals[..], [Refusal::TooDeep { .. }]));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let fine = format!(
            "a: {}{}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(scan(&fine).is_empty());
    }

    #[test]
    fn an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (name, previous) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            let items = vec![format!("*{previous}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{items}]\n"));
        }
        let refusals = scan(&text);
        let [Refusal::AliasBomb { at, .. }] = refusals[..] else {
            panic!("{refusals:?}")
        };
        assert_eq!(&text[at.start..at.end], "*c");
        // Sharing a map a few times is what aliases are for.
        assert!(scan("h: &h {a: 1, b: 2}\nx: *h\ny: *h\nz: [*h, *h]\n").is_empty());
    }
}
