//! YAML text → value tree and span index, in one walk over saphyr-parser's events.
//!
//! The walk refuses, as it goes, what would cost too much or be taken silently:
//! - nesting deeper than [`MAX_DEPTH`], stopped at the first collection too deep;
//! - more than [`MAX_VALUES`] values, stopped at the first one over;
//! - aliases that expand to far more values than were written ("billion laughs"), located
//!   at the alias that crossed the line; expansion stops copying well before that;
//! - a key written twice in one map (YAML parsers keep the last one silently; TOML refuses
//!   it, and so do we), with both positions.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};
use serde_json::{Map, Value};

use super::key_path::KeyPath;
pub(crate) use super::limits::{
    ALIAS_CEILING, ALIAS_FACTOR, ALIAS_FLOOR, MAX_DEPTH, MAX_VALUES, Refusal,
};
use super::scalar::resolve;
use super::span::{CharOffsets, Located, Span, SpanIndex};

/// A document read: its value tree and where each value sits.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) value: Value,
    pub(crate) index: SpanIndex,
}

/// An open map or list.
struct Frame {
    node: Node,
    path: KeyPath,
    anchor: usize,
    /// Values in it so far, aliases expanded: what an alias to it adds.
    size: usize,
    span: Span,
    /// `[` or `{`: the collection ends at its closing bracket.
    flow: bool,
}

enum Node {
    Seq(Vec<Value>),
    Map {
        map: Map<String, Value>,
        /// The key read, waiting for its value.
        pending: Option<(String, Span)>,
        /// Where each key was first written.
        keys: HashMap<String, Span>,
    },
}

/// A value complete: a scalar, an alias, or a closed collection.
struct Done {
    value: Value,
    span: Span,
    size: usize,
    anchor: usize,
    /// The text a key would have, for scalars.
    key_text: Option<String>,
}

/// Reads the first document of `text`.
pub(super) fn parse(text: &str) -> Result<Parsed, Vec<Refusal>> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut walk = Walk::new(text, text.len() - body.len());
    let mut parser = Parser::new_from_str(body);
    loop {
        let (event, span) = match parser.next_event() {
            None | Some(Ok((Event::StreamEnd, _))) => break,
            Some(Ok((Event::DocumentEnd, _))) => {
                walk.after_document(&mut parser);
                break;
            }
            Some(Err(error)) => {
                walk.syntax(&error);
                break;
            }
            Some(Ok(next)) => next,
        };
        let span = walk.span(span);
        if walk.event(event, span).is_err() {
            break;
        }
    }
    walk.finish()
}

/// Stops the walk: the refusal is recorded.
struct Stop;

struct Walk<'t> {
    text: &'t str,
    offsets: CharOffsets,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize, Option<String>)>,
    root: Option<Value>,
    index: SpanIndex,
    written: usize,
    /// Aliases in order, with the values expanded up to and including each.
    expansions: Vec<(Span, usize)>,
    expanded: usize,
    refusals: Vec<Refusal>,
}

impl<'t> Walk<'t> {
    fn new(text: &'t str, base: usize) -> Walk<'t> {
        Walk {
            text,
            offsets: CharOffsets::new(text, base),
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            index: SpanIndex::default(),
            written: 0,
            expansions: Vec::new(),
            expanded: 0,
            refusals: Vec::new(),
        }
    }

    fn span(&self, span: saphyr_parser::Span) -> Span {
        let start = self.offsets.byte(span.start.index());
        let end = self.offsets.byte(span.end.index()).max(start);
        // The parser's spans may take in the blanks after a token (`"x" ,`, `] `).
        let written = self.text[start..end].trim_end_matches([' ', '\t', '\r', '\n']);
        Span::new(start, start + written.len())
    }

    fn syntax(&mut self, error: &ScanError) {
        let at = self.offsets.byte(error.marker().index());
        // The scanner reads a flow collection whole before the first event of it (it
        // could be a key), so nesting too deep for the scanner is found here, by the text.
        let open = super::syntax::open_flows(&self.text[..at]);
        let blocks = self.stack.iter().filter(|frame| !frame.flow).count();
        if let Some((_, too_deep)) = open.get(MAX_DEPTH.saturating_sub(blocks)) {
            let at = Span::point(*too_deep);
            self.refusals.push(Refusal::TooDeep { at });
            return;
        }
        let message = error.info().to_owned();
        self.refusals.push(Refusal::Syntax { message, at });
    }

    /// A second document is refused: a plan is one document, and whatever follows the
    /// first would be dropped silently.
    fn after_document(&mut self, parser: &mut Parser<'t, saphyr_parser::StrInput<'t>>) {
        match parser.next_event() {
            Some(Ok((Event::DocumentStart(_), span))) => {
                let at = self.span(span).start;
                let message = "a plan is one YAML document: remove this `---` and what follows it, or merge it into the document above".to_owned();
                self.refusals.push(Refusal::Syntax { message, at });
            }
            Some(Err(error)) => self.syntax(&error),
            _ => {}
        }
    }

    fn event(&mut self, event: Event<'t>, span: Span) -> Result<(), Stop> {
        let done = match event {
            Event::SequenceStart(..) | Event::MappingStart(..) | Event::Scalar(..)
                if self.written >= MAX_VALUES =>
            {
                let at = Span::point(span.start);
                return self.stop(Refusal::TooManyValues { at });
            }
            Event::SequenceStart(anchor, _) => {
                return self.open(Node::Seq(Vec::new()), anchor, span);
            }
            Event::MappingStart(anchor, _) => {
                let node = Node::Map {
                    map: Map::new(),
                    pending: None,
                    keys: HashMap::new(),
                };
                return self.open(node, anchor, span);
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span),
            Event::Scalar(text, style, anchor, tag) => {
                self.written += 1;
                let is_str = tag.is_some_and(|t| t.suffix == "str");
                let value = match style {
                    ScalarStyle::Plain if !is_str => resolve(&text),
                    _ => Value::String(text.to_string()),
                };
                let key_text = Some(text.into_owned());
                Done {
                    value,
                    span,
                    size: 1,
                    anchor,
                    key_text,
                }
            }
            Event::Alias(id) => self.alias(id, span),
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => return Ok(()),
        };
        self.place(done)
    }

    fn stop(&mut self, refusal: Refusal) -> Result<(), Stop> {
        self.refusals.push(refusal);
        Err(Stop)
    }

    fn open(&mut self, node: Node, anchor: usize, span: Span) -> Result<(), Stop> {
        self.written += 1;
        let at = Span::point(span.start);
        if self.stack.len() >= MAX_DEPTH {
            return self.stop(Refusal::TooDeep { at });
        }
        let path = self.next_path(at)?;
        let flow = matches!(self.text.as_bytes().get(span.start), Some(b'[' | b'{'));
        self.stack.push(Frame {
            node,
            path,
            anchor,
            size: 1,
            span,
            flow,
        });
        Ok(())
    }

    /// The path of the next value in the innermost open collection; a collection where
    /// a key is expected is refused.
    fn next_path(&mut self, at: Span) -> Result<KeyPath, Stop> {
        let Some(frame) = self.stack.last() else {
            return Ok(KeyPath::root());
        };
        match &frame.node {
            Node::Seq(items) => Ok(frame.path.index(items.len())),
            Node::Map {
                pending: Some((key, _)),
                ..
            } => Ok(frame.path.key(key.clone())),
            Node::Map { pending: None, .. } => {
                let message = "a key must be text, not a list or a map".to_owned();
                let at = at.start;
                self.stop(Refusal::Syntax { message, at })?;
                Err(Stop)
            }
        }
    }

    fn close(&mut self, end: Span) -> Done {
        let Some(mut frame) = self.stack.pop() else {
            return Done {
                value: Value::Null,
                span: end,
                size: 0,
                anchor: 0,
                key_text: None,
            };
        };
        if frame.flow {
            frame.span.end = frame.span.end.max(end.end);
        }
        let value = match frame.node {
            Node::Seq(items) => Value::Array(items),
            Node::Map { map, .. } => Value::Object(map),
        };
        Done {
            value,
            span: frame.span,
            size: frame.size,
            anchor: frame.anchor,
            key_text: None,
        }
    }

    fn alias(&mut self, id: usize, span: Span) -> Done {
        let (value, size, key_text) =
            self.anchors
                .get(&id)
                .cloned()
                .unwrap_or((Value::Null, 1, None));
        self.expanded = self.expanded.saturating_add(size);
        self.expansions.push((span, self.expanded));
        // Past the ceiling the plan is refused whatever it holds: stop copying.
        let value = if self.expanded > ALIAS_CEILING {
            Value::Null
        } else {
            value
        };
        Done {
            value,
            span,
            size,
            anchor: 0,
            key_text,
        }
    }

    /// Puts a complete value where it belongs: a key, a map's value, a list's item, the root.
    fn place(&mut self, done: Done) -> Result<(), Stop> {
        if done.anchor > 0 {
            let kept = (done.value.clone(), done.size, done.key_text.clone());
            self.anchors.insert(done.anchor, kept);
        }
        let Some(frame) = self.stack.last_mut() else {
            self.index.insert(
                KeyPath::root(),
                Located {
                    key: None,
                    value: done.span,
                },
            );
            self.root = Some(done.value);
            return Ok(());
        };
        frame.size = frame.size.saturating_add(done.size);
        frame.span = Span::new(
            frame.span.start.min(done.span.start),
            frame.span.end.max(done.span.end),
        );
        match &mut frame.node {
            Node::Seq(items) => {
                let path = frame.path.index(items.len());
                self.index.insert(
                    path,
                    Located {
                        key: None,
                        value: done.span,
                    },
                );
                items.push(done.value);
            }
            Node::Map {
                map,
                pending: pending @ Some(_),
                ..
            } => {
                let Some((key, key_span)) = pending.take() else {
                    unreachable!("matched Some just above")
                };
                let located = Located {
                    key: Some(key_span),
                    value: done.span,
                };
                self.index.insert(frame.path.key(key.clone()), located);
                map.insert(key, done.value);
            }
            Node::Map { .. } => return self.key(done),
        }
        Ok(())
    }

    /// A key read: kept until its value comes; a key the map already has is refused.
    fn key(&mut self, done: Done) -> Result<(), Stop> {
        let Some(key) = done.key_text else {
            let message = "a key must be text, not a list or a map".to_owned();
            let at = done.span.start;
            return self.stop(Refusal::Syntax { message, at });
        };
        let Some(Frame {
            node: Node::Map { pending, keys, .. },
            ..
        }) = self.stack.last_mut()
        else {
            return Ok(());
        };
        if let Some(first) = keys.get(&key) {
            let (first, again) = (*first, done.span);
            let refusal = Refusal::DuplicateKey {
                key: key.clone(),
                first,
                again,
            };
            self.refusals.push(refusal);
        } else {
            keys.insert(key.clone(), done.span);
        }
        *pending = Some((key, done.span));
        Ok(())
    }

    fn finish(mut self) -> Result<Parsed, Vec<Refusal>> {
        let limit = self
            .written
            .saturating_mul(ALIAS_FACTOR)
            .clamp(ALIAS_FLOOR, ALIAS_CEILING);
        if self.expanded > limit {
            if let Some((at, values)) = self.expansions.iter().find(|(_, total)| *total > limit) {
                let refusal = Refusal::AliasBomb {
                    at: *at,
                    values: *values,
                    limit,
                };
                self.refusals.push(refusal);
            }
        }
        if !self.refusals.is_empty() {
            return Err(self.refusals);
        }
        Ok(Parsed {
            value: self.root.unwrap_or(Value::Null),
            index: self.index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusals(text: &str) -> Vec<Refusal> {
        parse(text).err().unwrap_or_default()
    }

    #[test]
    fn values_and_spans_come_from_one_walk() {
        let text = "a: { json: \"$.x[\" , b: [200, 6xx] }\nc: plain  \nd: &d {k: 1}\ne: *d\n";
        let parsed = parse(text).unwrap();
        let expected = json!({"a": {"json": "$.x[", "b": [200, "6xx"]}, "c": "plain", "d": {"k": 1}, "e": {"k": 1}});
        assert_eq!(parsed.value, expected);
        let at = |path: KeyPath| {
            let located = parsed.index.get(&path).copied().unwrap();
            let key = located.key.map(|k| &text[k.start..k.end]);
            (key, &text[located.value.start..located.value.end])
        };
        let a = KeyPath::root().key("a");
        assert_eq!(at(a.key("json")), (Some("json"), "\"$.x[\""));
        assert_eq!(at(a.key("b")), (Some("b"), "[200, 6xx]"));
        assert_eq!(at(a.key("b").index(1)), (None, "6xx"));
        assert_eq!(at(KeyPath::root().key("c")), (Some("c"), "plain"));
        assert_eq!(at(KeyPath::root().key("e")), (Some("e"), "*d"));
    }

    #[test]
    fn a_key_written_twice_is_refused_with_both_positions() {
        let text = "load:\n  users: 1\n  users: 2\nclasses: {A: {}, A: {}}\n";
        let duplicate =
            |key: &str, first: (usize, usize), again: (usize, usize)| Refusal::DuplicateKey {
                key: key.into(),
                first: Span::new(first.0, first.1),
                again: Span::new(again.0, again.1),
            };
        assert_eq!(
            refusals(text),
            vec![
                duplicate("users", (8, 13), (19, 24)),
                duplicate("A", (38, 39), (45, 46))
            ]
        );
        assert!(parse("a: {x: 1}\nb: {x: 1}\nc: [{x: 1}, {x: 2}]\nd: &d {x: 1}\ne: *d\n").is_ok());
    }

    #[test]
    fn too_many_values_are_refused_at_the_first_one_over() {
        let text: String = (0..MAX_VALUES).map(|i| format!("k{i}: 1\n")).collect();
        let [Refusal::TooManyValues { at }] = refusals(&text)[..] else {
            panic!("not refused")
        };
        // The root map and 50,000 pairs less one value make 100,000.
        assert!(text[at.start..].starts_with("1\nk50000"));
        let fine: String = (0..MAX_VALUES / 2 - 1)
            .map(|i| format!("k{i}: 1\n"))
            .collect();
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_at_once_at_the_first_level_too_deep() {
        for levels in [100, 100_000] {
            let deep = format!("a: {}{}", "[".repeat(levels), "]".repeat(levels));
            let started = std::time::Instant::now();
            let [Refusal::TooDeep { at }] = refusals(&deep)[..] else {
                panic!("not refused at {levels}")
            };
            assert_eq!(at.start, 3 + MAX_DEPTH - 1, "{levels}");
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
        let fine = format!(
            "a: {}{}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(parse(&fine).is_ok());
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
        let started = std::time::Instant::now();
        let [Refusal::AliasBomb { at, .. }] = refusals(&text)[..] else {
            panic!("not refused")
        };
        assert_eq!(&text[at.start..at.end], "*c");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // Sharing a map a few times is what aliases are for.
        assert!(parse("h: &h {a: 1, b: 2}\nx: *h\ny: *h\nz: [*h, *h]\n").is_ok());
    }

    #[test]
    fn a_second_document_and_a_map_as_key_are_refused() {
        let [Refusal::Syntax { at, .. }] = refusals("a: 1\n---\nb: 2\n")[..] else {
            panic!("not refused")
        };
        assert_eq!(at, 5);
        assert!(matches!(
            refusals("? [a]\n: 1\n")[..],
            [Refusal::Syntax { .. }]
        ));
    }
}
