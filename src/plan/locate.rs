//! The span index: where each key and value of a plan file sits in its source text.
//!
//! Plans are deserialized through serde_yaml / toml into a generic value tree, which keeps no
//! positions. To point a diagnostic at `file:line:col`, the same text is parsed a second time
//! here, with position-aware parsers (yaml-rust2 events, toml_edit spans), into a map from
//! [`KeyPath`] (`load.stages[1].users`) to the spans of that key and of its value.
//!
//! Invariants:
//! - Every [`Span`] is a UTF-8 *byte* range of the text the index was built from, lies within
//!   it, and starts and ends on char boundaries, so `&text[span.start..span.end]` never panics.
//! - Building is best effort and never panics, on any input: invalid YAML indexes what was
//!   read before the error; invalid TOML gives an empty index. A missing entry only costs a
//!   diagnostic its position, never the diagnostic itself.
//! - Building is linear in the text (nodes nested deeper than [`MAX_DEPTH`] are not indexed, so
//!   that pathological nesting cannot make path copies quadratic).

use std::collections::HashMap;
use std::ops::Range;

use toml_edit::{ArrayOfTables, ImDocument, InlineTable, Item, Table, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::key_path::KeyPath;

/// Nodes deeper than this are left out of the index (their nearest ancestor still is).
/// Real plans are a handful of levels deep; the cap only bounds work on hostile input.
const MAX_DEPTH: usize = 64;

/// A byte range in the source text (`start..end`, UTF-8 byte offsets, end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte (`start` for an empty value).
    pub end: usize,
}

impl Span {
    /// A span that is never inverted, whatever the arithmetic that produced `end`.
    fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// A zero-length span: the position of something that was not written (an empty value).
    fn point(at: usize) -> Span {
        Span { start: at, end: at }
    }

    /// A toml_edit range, clamped to the text so a surprising range cannot break slicing.
    fn clamped(range: Range<usize>, text: &str) -> Option<Span> {
        let span = Span::new(range.start.min(text.len()), range.end.min(text.len()));
        text.get(span.start..span.end).map(|_| span)
    }
}

/// Where one value of the document sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// The map key naming this value (None for list items and the root).
    pub key: Option<Span>,
    /// The value itself: a scalar's text; for a map or list, at least its first line (a TOML table: its `[header]`).
    pub value: Span,
}

/// Positions of every key and value of one plan file, by [`KeyPath`].
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    entries: HashMap<KeyPath, Located>,
}

impl SpanIndex {
    /// Indexes the first YAML document of `text`.
    ///
    /// Keys are indexed as written (`1:` is `Key("1")`, a quoted key by its unquoted text).
    /// Quoted scalars are located with their quotes; an alias value at the alias (`*name`),
    /// and nothing below it; an empty value (`key:`) as a zero-length span after its `:`.
    /// Best effort: never panics, on any input (including invalid YAML: index what was seen
    /// before the error).
    pub fn from_yaml(text: &str) -> SpanIndex {
        // yaml-rust2 keeps a byte-order mark as part of the first key; serde_yaml does not.
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut indexer = YamlIndexer::new(text, text.len() - body.len());
        // Pull events one by one rather than `Parser::load`: `load` recurses once per nesting
        // level and asserts on the event order, and both must be out of reach of plan files.
        let mut parser = Parser::new_from_str(body);
        loop {
            match parser.next_token() {
                Ok((Event::DocumentEnd | Event::StreamEnd, _)) | Err(_) => break,
                Ok((event, mark)) => indexer.on_event(event, mark),
            }
        }
        indexer.finish()
    }

    /// Indexes a TOML document. Tables declared by a header are located at the header;
    /// implicit tables (`a` of `[a.b]` or of `a.b = 1`) at their first key.
    /// Best effort likewise; invalid TOML gives an empty index.
    pub fn from_toml(text: &str) -> SpanIndex {
        match ImDocument::parse(text) {
            Ok(document) => TomlIndexer::new(text).index(document.as_table()),
            Err(_) => SpanIndex::default(),
        }
    }

    /// The position of exactly `path`, if it was written in the file.
    pub fn get(&self, path: &KeyPath) -> Option<&Located> {
        self.entries.get(path)
    }

    /// The deepest indexed ancestor-or-self of `path`: an error about a key that was never
    /// written (a missing required key) points at its parent map.
    pub fn nearest(&self, path: &KeyPath) -> Option<(KeyPath, Located)> {
        let mut candidate = path.clone();
        loop {
            if let Some(located) = self.entries.get(&candidate) {
                return Some((candidate, *located));
            }
            candidate.pop()?;
        }
    }

    /// Every indexed path (used to merge the indexes of a plan and the file it `extends`).
    pub fn iter(&self) -> impl Iterator<Item = (&KeyPath, &Located)> {
        self.entries.iter()
    }

    /// Every indexed path, by value.
    pub fn into_entries(self) -> impl Iterator<Item = (KeyPath, Located)> {
        self.entries.into_iter()
    }

    /// Records a position; a duplicated key keeps its first occurrence.
    fn insert(&mut self, path: KeyPath, located: Located) {
        self.entries.entry(path).or_insert(located);
    }
}

// ---------------------------------------------------------------------------------------------
// YAML

/// Converts yaml-rust2 markers to byte offsets.
///
/// Measured on yaml-rust2 0.10.4: `Marker::index()` counts *chars* from the start of the
/// parsed text (despite its doc comment saying bytes; `\r\n` counts as two), `line()` is
/// 1-based and `col()` is 0-based, in chars. Only `index()` is used.
pub(super) struct CharOffsets {
    /// Bytes skipped before the parsed text (a byte-order mark).
    base: usize,
    /// Byte offset of each char of the parsed text, plus its length; None for ASCII text,
    /// where char and byte offsets coincide.
    table: Option<Vec<usize>>,
    /// Length of the whole text, the clamp for every offset.
    len: usize,
}

impl CharOffsets {
    pub(super) fn new(text: &str, base: usize) -> CharOffsets {
        let body = text.get(base..).unwrap_or_default();
        let table = (!body.is_ascii()).then(|| {
            body.char_indices()
                .map(|(offset, _)| offset)
                .chain(std::iter::once(body.len()))
                .collect()
        });
        CharOffsets {
            base,
            table,
            len: text.len(),
        }
    }

    pub(super) fn byte(&self, mark: &Marker) -> usize {
        let relative = match &self.table {
            None => mark.index(),
            Some(table) => table.get(mark.index()).copied().unwrap_or(self.len),
        };
        (self.base + relative).min(self.len)
    }
}

/// What the next node of the document is to its parent.
enum Slot {
    /// A map key: recorded as the pending key, not indexed itself.
    Key,
    /// A value; `path` is None where it cannot be named (under a non-scalar key, too deep).
    Value {
        path: Option<KeyPath>,
        key: Option<Span>,
    },
}

/// Where an open map stands in its key/value alternation.
enum MapState {
    ExpectKey,
    /// The key just read: its name and span, or None for a key no `KeyPath` can name.
    ExpectValue(Option<(String, Span)>),
}

enum FrameKind {
    Seq { next: usize },
    Map { state: MapState },
}

/// An open map or sequence.
struct Frame {
    kind: FrameKind,
    path: Option<KeyPath>,
    key: Option<Span>,
    start: usize,
    /// The furthest end of anything read inside: a block collection's end.
    end: usize,
    /// `]` or `}` for a flow collection, whose end event sits on it.
    closer: Option<u8>,
}

/// Builds a [`SpanIndex`] from yaml-rust2 events.
///
/// Events carry only a start marker, and not always a useful one (a block map's marker is the
/// `:` after its first key; an empty value's is the next token), so ends are recovered from
/// the text and collection starts from their first child.
struct YamlIndexer<'t> {
    text: &'t str,
    offsets: CharOffsets,
    frames: Vec<Frame>,
    /// Scalar anchors by id, so that an alias used as a key (`*name: value`) has a name.
    anchors: HashMap<usize, String>,
    /// End of the last thing read: the floor when looking back for an empty value's place.
    last_end: usize,
    root_seen: bool,
    index: SpanIndex,
}

impl MarkedEventReceiver for YamlIndexer<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let at = self.offsets.byte(&mark);
        match event {
            Event::Scalar(value, style, anchor, _) => self.scalar(value, style, anchor, at),
            Event::Alias(anchor) => self.alias(anchor, at),
            Event::SequenceStart(..) => self.open(FrameKind::Seq { next: 0 }, at),
            Event::MappingStart(..) => self.open(
                FrameKind::Map {
                    state: MapState::ExpectKey,
                },
                at,
            ),
            Event::SequenceEnd | Event::MappingEnd => self.close(Some(at)),
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

impl<'t> YamlIndexer<'t> {
    fn new(text: &'t str, base: usize) -> YamlIndexer<'t> {
        YamlIndexer {
            text,
            offsets: CharOffsets::new(text, base),
            frames: Vec::new(),
            anchors: HashMap::new(),
            last_end: base,
            root_seen: false,
            index: SpanIndex::default(),
        }
    }

    /// Closes whatever a parse error left open, so that its maps can still be `nearest`.
    fn finish(mut self) -> SpanIndex {
        while !self.frames.is_empty() {
            self.close(None);
        }
        self.index
    }

    fn scalar(&mut self, value: String, style: TScalarStyle, anchor: usize, at: usize) {
        let span = self.scalar_span(&value, style, at);
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        self.leaf(span, Some(value));
    }

    fn alias(&mut self, anchor: usize, at: usize) {
        let span = Span::new(at, alias_end(self.text, at));
        let name = self.anchors.get(&anchor).cloned();
        self.leaf(span, name);
    }

    /// A scalar or alias; `name` is what it is called when used as a key.
    fn leaf(&mut self, span: Span, name: Option<String>) {
        match self.next_slot(span.start) {
            Slot::Key => self.set_pending_key(name.map(|name| (name, span))),
            Slot::Value { path, key } => {
                if let Some(path) = path {
                    self.index.insert(path, Located { key, value: span });
                }
            }
        }
        self.note_end(span.end);
    }

    fn open(&mut self, kind: FrameKind, at: usize) {
        let (path, key) = match self.next_slot(at) {
            // A map or list used as a key: neither it nor its value can be named.
            Slot::Key => {
                self.set_pending_key(None);
                (None, None)
            }
            Slot::Value { path, key } => (path, key),
        };
        let path = path.filter(|_| self.frames.len() < MAX_DEPTH);
        let opener = self.text.as_bytes().get(at).copied();
        let closer = match opener {
            Some(b'[') => Some(b']'),
            Some(b'{') => Some(b'}'),
            _ => None,
        };
        let mut end = at;
        // `[`, `{` and a block sequence's `-` are real positions; a block map's marker is not.
        if matches!(opener, Some(b'[' | b'{' | b'-')) {
            end = at + 1;
            // The `-` also introduces the first item, which may be empty.
            self.last_end = if opener == Some(b'-') { at } else { end };
        }
        self.frames.push(Frame {
            kind,
            path,
            key,
            start: at,
            end,
            closer,
        });
    }

    /// Ends the innermost collection; `at` is its end event's position (None: cut short).
    fn close(&mut self, at: Option<usize>) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        let on_closer = at.filter(|&at| {
            frame.closer.is_some() && self.text.as_bytes().get(at).copied() == frame.closer
        });
        let end = on_closer.map_or(frame.end, |at| at + 1);
        let span = Span::new(frame.start, end);
        if let Some(path) = frame.path {
            let located = Located {
                key: frame.key,
                value: span,
            };
            self.index.insert(path, located);
        }
        self.note_end(span.end);
    }

    /// Advances the parent past the node starting at `start` and says what the node is.
    fn next_slot(&mut self, start: usize) -> Slot {
        let Some(frame) = self.frames.last_mut() else {
            let path = (!self.root_seen).then(KeyPath::root);
            self.root_seen = true;
            return Slot::Value { path, key: None };
        };
        frame.start = frame.start.min(start);
        match &mut frame.kind {
            FrameKind::Seq { next } => {
                let index = *next;
                *next += 1;
                let path = frame.path.as_ref().map(|path| path.index(index));
                Slot::Value { path, key: None }
            }
            FrameKind::Map { state } => match std::mem::replace(state, MapState::ExpectKey) {
                MapState::ExpectKey => Slot::Key,
                MapState::ExpectValue(key) => {
                    let (path, key) = match (&frame.path, key) {
                        (Some(path), Some((name, span))) => (Some(path.key(name)), Some(span)),
                        _ => (None, None),
                    };
                    Slot::Value { path, key }
                }
            },
        }
    }

    fn set_pending_key(&mut self, key: Option<(String, Span)>) {
        if let Some(Frame {
            kind: FrameKind::Map { state },
            ..
        }) = self.frames.last_mut()
        {
            *state = MapState::ExpectValue(key);
        }
    }

    fn note_end(&mut self, end: usize) {
        self.last_end = self.last_end.max(end);
        if let Some(frame) = self.frames.last_mut() {
            frame.end = frame.end.max(end);
        }
    }

    fn scalar_span(&self, value: &str, style: TScalarStyle, at: usize) -> Span {
        let text = self.text;
        match style {
            TScalarStyle::Plain if value.is_empty() => self.empty_span(at),
            TScalarStyle::Plain => Span::new(at, plain_end(text, at, value)),
            TScalarStyle::SingleQuoted => Span::new(at, single_quoted_end(text, at)),
            TScalarStyle::DoubleQuoted => Span::new(at, double_quoted_end(text, at)),
            // A block scalar without content has its marker on the next token, like `key:`.
            TScalarStyle::Literal | TScalarStyle::Folded if value.bytes().all(|b| b == b'\n') => {
                self.empty_span(at)
            }
            TScalarStyle::Literal | TScalarStyle::Folded => block_scalar_span(text, at),
        }
    }

    /// An empty value's marker is the *next* token, possibly lines later: the value belongs
    /// right after the first indicator written since the previous node (its key's `:`, its
    /// `-`) and any anchor or tag that follows it.
    fn empty_span(&self, marker: usize) -> Span {
        let text = self.text;
        let floor = self.last_end.min(marker);
        // In a flow map (`{a: , b}`) the marker sits on the `:` itself.
        let indicator = first_content(text, floor, marker).or_else(|| {
            let rest = text.get(floor..)?;
            let unspaced = rest.trim_start_matches([' ', '\t']);
            unspaced
                .starts_with(':')
                .then(|| floor + (rest.len() - unspaced.len()))
        });
        let Some(indicator) = indicator else {
            return Span::point(floor);
        };
        let is_indicator = matches!(text.as_bytes().get(indicator), Some(b':' | b'-' | b'?'));
        let after = if is_indicator {
            indicator + 1
        } else {
            indicator
        };
        Span::point(skip_properties(text, after, marker.max(after)))
    }
}

fn is_yaml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// End of the plain scalar `value` written at `start`. Plain scalars have no escapes, and
/// folding only turns whitespace runs (line breaks and indentation) into a space or newline,
/// so the value is matched against the text run by run.
fn plain_end(text: &str, start: usize, value: &str) -> usize {
    let source = text.get(start..).unwrap_or_default();
    let mut chars = source.char_indices().peekable();
    let mut wanted = value.chars().peekable();
    let mut matched = 0;
    while let Some(want) = wanted.next() {
        if is_yaml_space(want) {
            // A whitespace run of the value stands for a whitespace run of the text.
            while wanted.next_if(|&c| is_yaml_space(c)).is_some() {}
            if chars.next_if(|&(_, c)| is_yaml_space(c)).is_none() {
                break;
            }
            while chars.next_if(|&(_, c)| is_yaml_space(c)).is_some() {}
            continue;
        }
        match chars.next() {
            Some((offset, c)) if c == want => matched = offset + c.len_utf8(),
            _ => break,
        }
    }
    if matched == 0 {
        // The text does not read as expected: settle for the first char.
        matched = source.chars().next().map_or(0, char::len_utf8);
    }
    start + matched
}

/// End (after the closing quote) of the double-quoted scalar whose `"` is at `start`.
fn double_quoted_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// End (after the closing quote) of the single-quoted scalar whose `'` is at `start`.
fn single_quoted_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match (b, bytes.get(i + 1)) {
            (b'\'', Some(b'\'')) => i += 2,
            (b'\'', _) => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// End of the alias `*name` starting at `start`.
fn alias_end(text: &str, start: usize) -> usize {
    let rest = text.get(start + 1..).unwrap_or_default();
    let name = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
        .unwrap_or(rest.len());
    (start + 1 + name).min(text.len())
}

/// The text of a `|` or `>` block scalar whose first content char is at (or, with an
/// indentation indicator, indented past) `marker`: every following line indented at least
/// as much, or blank, up to the last non-blank one.
fn block_scalar_span(text: &str, marker: usize) -> Span {
    let Some(before) = text.get(..marker) else {
        return Span::point(marker.min(text.len()));
    };
    let indent = marker - before.rfind('\n').map_or(0, |i| i + 1);
    let first_line_end = line_end(text, marker);
    let first_line = text.get(marker..first_line_end).unwrap_or_default();
    let start = marker + (first_line.len() - first_line.trim_start_matches(' ').len());
    let mut end = marker + first_line.trim_end().len();
    let mut newline = first_line_end;
    while newline < text.len() {
        let line_start = newline + 1;
        newline = line_end(text, line_start);
        let line = text.get(line_start..newline).unwrap_or_default();
        let content = line.trim_start_matches(' ');
        if content.trim().is_empty() {
            continue;
        }
        let at_document_marker = content.starts_with("---") || content.starts_with("...");
        if line.len() - content.len() < indent || (indent == 0 && at_document_marker) {
            break;
        }
        end = line_start + line.trim_end().len();
    }
    Span::new(start, end)
}

/// Offset of the next `\n` at or after `from`, or the end of the text.
fn line_end(text: &str, from: usize) -> usize {
    text.get(from..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |i| from + i)
}

/// Start of the first non-blank, non-comment text in `from..to`.
fn first_content(text: &str, from: usize, to: usize) -> Option<usize> {
    let region = text.get(from..to)?;
    let mut line_start = from;
    for line in region.split('\n') {
        let code = strip_comment(text, line_start, line);
        let unspaced = code.trim_start();
        if !unspaced.is_empty() {
            return Some(line_start + (code.len() - unspaced.len()));
        }
        line_start += line.len() + 1;
    }
    None
}

/// End of the anchors (`&name`) and tags (`!tag`) written from `from` on, before `limit`.
fn skip_properties(text: &str, from: usize, limit: usize) -> usize {
    let mut end = from;
    loop {
        let Some(rest) = text.get(end..limit) else {
            return end;
        };
        let unspaced = rest.trim_start_matches([' ', '\t']);
        if !unspaced.starts_with(['&', '!']) {
            return end;
        }
        let token = unspaced.find(char::is_whitespace).unwrap_or(unspaced.len());
        end += rest.len() - unspaced.len() + token;
    }
}

/// `line` (found at `offset` in `text`) without its comment: a `#` is one only after
/// whitespace or at the start of a line.
fn strip_comment<'l>(text: &str, offset: usize, line: &'l str) -> &'l str {
    let bytes = text.as_bytes();
    let comment = line.char_indices().find(|&(i, c)| {
        c == '#'
            && (offset + i == 0
                || matches!(
                    bytes.get(offset + i - 1),
                    Some(b' ' | b'\t' | b'\n' | b'\r')
                ))
    });
    match comment {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

// ---------------------------------------------------------------------------------------------
// TOML

/// A node of the toml_edit tree still to be indexed.
enum TomlNode<'d> {
    Table(&'d Table),
    Tables(&'d ArrayOfTables),
    Value(&'d Value),
}

impl<'d> TomlNode<'d> {
    fn from_item(item: &'d Item) -> Option<TomlNode<'d>> {
        match item {
            Item::None => None,
            Item::Value(value) => Some(TomlNode::Value(value)),
            Item::Table(table) => Some(TomlNode::Table(table)),
            Item::ArrayOfTables(tables) => Some(TomlNode::Tables(tables)),
        }
    }
}

struct TomlWork<'d> {
    path: KeyPath,
    key: Option<Span>,
    node: TomlNode<'d>,
}

/// Builds a [`SpanIndex`] from a toml_edit document, whose items carry their own spans.
struct TomlIndexer<'t> {
    text: &'t str,
    index: SpanIndex,
}

impl<'t> TomlIndexer<'t> {
    fn new(text: &'t str) -> TomlIndexer<'t> {
        TomlIndexer {
            text,
            index: SpanIndex::default(),
        }
    }

    /// Walks with an explicit stack: dotted keys and headers can nest arbitrarily deep.
    fn index(mut self, root: &Table) -> SpanIndex {
        let mut stack = vec![TomlWork {
            path: KeyPath::root(),
            key: None,
            node: TomlNode::Table(root),
        }];
        while let Some(work) = stack.pop() {
            let value = self.value_span(&work);
            if let Some(value) = value {
                let located = Located {
                    key: work.key,
                    value,
                };
                self.index.insert(work.path.clone(), located);
            }
            if work.path.segments().len() < MAX_DEPTH {
                self.push_children(&work, &mut stack);
            }
        }
        self.index
    }

    fn span(&self, range: Option<Range<usize>>) -> Option<Span> {
        range.and_then(|range| Span::clamped(range, self.text))
    }

    /// A table's header if it has one, the root table's key/values, or else (an implicit
    /// table, an implicit inline table) the key that first named it.
    fn value_span(&self, work: &TomlWork<'_>) -> Option<Span> {
        let span = match &work.node {
            TomlNode::Table(table) => self.table_span(table),
            TomlNode::Tables(tables) => tables
                .iter()
                .next()
                .and_then(|first| self.table_span(first))
                .or_else(|| self.span(tables.span())),
            TomlNode::Value(value) => self.span(value.span()),
        };
        let span = span.or(work.key);
        match span {
            None if work.path.is_root() => Some(Span::point(0)),
            span => span,
        }
    }

    fn table_span(&self, table: &Table) -> Option<Span> {
        // toml_edit stretches a header table's span over its key/values; keep the header.
        let span = self.span(table.span())?;
        if self.text.as_bytes().get(span.start) == Some(&b'[') {
            Some(header_span(self.text, span))
        } else {
            Some(span)
        }
    }

    fn push_children<'d>(&self, work: &TomlWork<'d>, stack: &mut Vec<TomlWork<'d>>) {
        match work.node {
            TomlNode::Table(table) => self.push_table(&work.path, table, stack),
            TomlNode::Tables(tables) => {
                for (i, table) in tables.iter().enumerate() {
                    let node = TomlNode::Table(table);
                    stack.push(TomlWork {
                        path: work.path.index(i),
                        key: None,
                        node,
                    });
                }
            }
            TomlNode::Value(Value::Array(array)) => {
                for (i, value) in array.iter().enumerate() {
                    let node = TomlNode::Value(value);
                    stack.push(TomlWork {
                        path: work.path.index(i),
                        key: None,
                        node,
                    });
                }
            }
            TomlNode::Value(Value::InlineTable(table)) => {
                self.push_inline_table(&work.path, table, stack);
            }
            TomlNode::Value(_) => {}
        }
    }

    fn push_table<'d>(&self, path: &KeyPath, table: &'d Table, stack: &mut Vec<TomlWork<'d>>) {
        for (name, item) in table.iter() {
            let Some(node) = TomlNode::from_item(item) else {
                continue;
            };
            let key = self.span(table.key(name).and_then(|key| key.span()));
            stack.push(TomlWork {
                path: path.key(name),
                key,
                node,
            });
        }
    }

    fn push_inline_table<'d>(
        &self,
        path: &KeyPath,
        table: &'d InlineTable,
        stack: &mut Vec<TomlWork<'d>>,
    ) {
        for (name, value) in table.iter() {
            let key = self.span(table.key(name).and_then(|key| key.span()));
            stack.push(TomlWork {
                path: path.key(name),
                key,
                node: TomlNode::Value(value),
            });
        }
    }
}

/// The `[a.b]` / `[[a.b]]` header at the start of `table` (quoted keys may hold `]`).
fn header_span(text: &str, table: Span) -> Span {
    let bytes = text.as_bytes();
    let array = bytes.get(table.start + 1) == Some(&b'[');
    let limit = table.end.min(bytes.len());
    let mut quote = None;
    let mut i = table.start + 1;
    while i < limit {
        let b = bytes[i];
        match (quote, b) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b']') => {
                let closes_array = array && bytes.get(i + 1) == Some(&b']');
                let end = if closes_array { i + 2 } else { i + 1 };
                return Span::new(table.start, end.min(limit));
            }
            (None, b'\n') => break,
            (None, _) => {}
        }
        i += 1;
    }
    Span::new(table.start, i.min(limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use indoc::indoc;
    use proptest::prelude::*;

    fn path(dotted: &str) -> KeyPath {
        KeyPath::parse_dotted(dotted).expect("valid test path")
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    /// The key and value text of `dotted` in `text`, as indexed.
    fn located<'t>(index: &SpanIndex, text: &'t str, dotted: &str) -> (Option<&'t str>, &'t str) {
        let located = index
            .get(&path(dotted))
            .unwrap_or_else(|| panic!("{dotted} is not indexed"));
        (
            located.key.map(|key| slice(text, key)),
            slice(text, located.value),
        )
    }

    /// Every span must slice the text (in bounds, on char boundaries).
    fn assert_spans_slice(index: &SpanIndex, text: &str) {
        for (path, located) in index.iter() {
            let spans = located.key.into_iter().chain([located.value]);
            for span in spans {
                assert!(span.start <= span.end, "{path}: inverted {span:?}");
                assert!(
                    text.get(span.start..span.end).is_some(),
                    "{path}: {span:?} does not slice"
                );
            }
        }
    }

    const YAML_PLAN: &str = indoc! {r#"
        # Reservation load test
        name: "Cabaña del Lago"
        description: Réservations — été
        classes:
          ReservationUser:
            weight: 3
            headers: {Accept: application/json, "X-Trace": 'on', Extra: }
            tasks:
              book:
                method: POST
                path: /reservations/{{ room_id }}
        load:
          stages:
            - duration: 30s
              users: 10
            - duration: 1m
              usres: 50
          ramp: [1, {step: 2}]
    "#};

    #[test]
    fn yaml_locates_nested_key() {
        let index = SpanIndex::from_yaml(YAML_PLAN);
        let (key, value) = located(&index, YAML_PLAN, "classes.ReservationUser.tasks.book.path");
        assert_eq!(key, Some("path"));
        assert_eq!(value, "/reservations/{{ room_id }}");
    }

    #[test]
    fn yaml_locates_list_item_keys() {
        let index = SpanIndex::from_yaml(YAML_PLAN);
        assert_eq!(
            located(&index, YAML_PLAN, "load.stages.0.users"),
            (Some("users"), "10")
        );
        assert_eq!(
            located(&index, YAML_PLAN, "load.stages.1.usres"),
            (Some("usres"), "50")
        );
        let (key, item) = located(&index, YAML_PLAN, "load.stages.1");
        assert_eq!(key, None);
        assert_eq!(item, "duration: 1m\n      usres: 50");
        let (_, stages) = located(&index, YAML_PLAN, "load.stages");
        assert!(stages.starts_with("- duration: 30s") && stages.ends_with("usres: 50"));
    }

    #[test]
    fn yaml_locates_keys_in_flow_collections() {
        let index = SpanIndex::from_yaml(YAML_PLAN);
        let headers = "classes.ReservationUser.headers";
        let (_, map) = located(&index, YAML_PLAN, headers);
        assert_eq!(
            map,
            r#"{Accept: application/json, "X-Trace": 'on', Extra: }"#
        );
        let trace = index.get(&path(headers).key("X-Trace")).expect("X-Trace");
        assert_eq!(
            trace.key.map(|key| slice(YAML_PLAN, key)),
            Some(r#""X-Trace""#)
        );
        assert_eq!(slice(YAML_PLAN, trace.value), "'on'");
        assert_eq!(
            located(&index, YAML_PLAN, "load.ramp.1.step"),
            (Some("step"), "2")
        );
        assert_eq!(located(&index, YAML_PLAN, "load.ramp.1").1, "{step: 2}");
        // The empty value sits right after its `:`.
        let extra = index.get(&path(headers).key("Extra")).expect("Extra");
        assert_eq!(extra.value.start, extra.value.end);
        assert_eq!(
            &YAML_PLAN[..extra.value.start],
            &YAML_PLAN[..extra.key.expect("key").end + 1]
        );
    }

    #[test]
    fn yaml_byte_offsets_survive_multibyte_text() {
        let index = SpanIndex::from_yaml(YAML_PLAN);
        let usres = index.get(&path("load.stages.1.usres")).expect("usres");
        let key = usres.key.expect("key span");
        assert_eq!(&YAML_PLAN[key.start..key.end], "usres");
        assert_eq!(located(&index, YAML_PLAN, "name").1, "\"Cabaña del Lago\"");
        assert_eq!(
            located(&index, YAML_PLAN, "description").1,
            "Réservations — été"
        );
    }

    #[test]
    fn yaml_nearest_missing_child_is_parent() {
        let index = SpanIndex::from_yaml(YAML_PLAN);
        let missing = path("classes.ReservationUser.tasks.book.body");
        let (found, located) = index.nearest(&missing).expect("a parent");
        assert_eq!(found, path("classes.ReservationUser.tasks.book"));
        assert_eq!(located.key.map(|key| slice(YAML_PLAN, key)), Some("book"));
        assert!(slice(YAML_PLAN, located.value).starts_with("method: POST"));
        let exact = path("load.stages.0.users");
        assert_eq!(index.nearest(&exact).map(|(found, _)| found), Some(exact));
    }

    #[test]
    fn yaml_empty_values_sit_after_their_indicator() {
        let text = indoc! {"
            think_time:
            stages:
              -
              - # nothing
              - &a
            last: x
        "};
        let index = SpanIndex::from_yaml(text);
        let think = index.get(&path("think_time")).expect("think_time");
        assert_eq!(think.value, Span::point(text.find(':').expect("colon") + 1));
        let at = |dotted: &str| index.get(&path(dotted)).expect(dotted).value;
        assert_eq!(
            at("stages.0"),
            Span::point(text.find("-\n").expect("dash") + 1)
        );
        assert_eq!(
            at("stages.1"),
            Span::point(text.find("- #").expect("dash") + 1)
        );
        assert_eq!(
            at("stages.2"),
            Span::point(text.find("&a").expect("anchor") + 2)
        );
        assert_eq!(located(&index, text, "last"), (Some("last"), "x"));
    }

    #[test]
    fn yaml_scalar_keys_are_stringified() {
        let text = indoc! {r#"
            codes:
              1: ok
              true: yes
              "quo\"ted": 'it''s'
              ? explicit
              : value
              [not, a, name]: skipped
              after: 2
        "#};
        let index = SpanIndex::from_yaml(text);
        let one = index
            .get(&KeyPath::root().key("codes").key("1"))
            .expect("codes.1");
        assert_eq!(slice(text, one.key.expect("key")), "1");
        assert_eq!(slice(text, one.value), "ok");
        assert_eq!(located(&index, text, "codes.true"), (Some("true"), "yes"));
        let quoted = KeyPath::root().key("codes").key("quo\"ted");
        let quoted = index.get(&quoted).expect("quoted key");
        assert_eq!(slice(text, quoted.value), "'it''s'");
        assert_eq!(
            located(&index, text, "codes.explicit"),
            (Some("explicit"), "value")
        );
        assert_eq!(located(&index, text, "codes.after"), (Some("after"), "2"));
        assert!(
            index
                .iter()
                .all(|(path, _)| path.to_string() != "codes.not")
        );
    }

    #[test]
    fn yaml_aliases_are_located_at_the_alias() {
        let text = indoc! {"
            base: &defaults
              timeout: 5s
            name: &n ñandú
            copy: *defaults
            again: *n
            *n : by alias
        "};
        let index = SpanIndex::from_yaml(text);
        assert_eq!(located(&index, text, "copy"), (Some("copy"), "*defaults"));
        assert_eq!(located(&index, text, "again"), (Some("again"), "*n"));
        assert_eq!(located(&index, text, "name").1, "ñandú");
        assert_eq!(located(&index, text, "base.timeout").1, "5s");
        assert!(index.get(&path("copy.timeout")).is_none());
        let by_alias = index.get(&KeyPath::root().key("ñandú")).expect("alias key");
        assert_eq!(slice(text, by_alias.value), "by alias");
    }

    #[test]
    fn yaml_multiline_scalars_span_all_their_lines() {
        let text = indoc! {r#"
            body: |
              {"room": 1,
               "nights": 2}

            folded: >-
              one
              two # not a comment
            plain: first
              second   # comment
            quoted: "a
              b"
            next: 1
        "#};
        let index = SpanIndex::from_yaml(text);
        assert_eq!(
            located(&index, text, "body").1,
            "{\"room\": 1,\n   \"nights\": 2}"
        );
        assert_eq!(
            located(&index, text, "folded").1,
            "one\n  two # not a comment"
        );
        assert_eq!(located(&index, text, "plain").1, "first\n  second");
        assert_eq!(located(&index, text, "quoted").1, "\"a\n  b\"");
        assert_eq!(located(&index, text, "next").1, "1");
    }

    #[test]
    fn yaml_only_first_document_bom_and_crlf() {
        let text = "\u{feff}a: 1\r\nb: ñ\r\nc: [x]\r\n---\r\nd: 2\r\n";
        let index = SpanIndex::from_yaml(text);
        assert_eq!(located(&index, text, "a"), (Some("a"), "1"));
        assert_eq!(located(&index, text, "b").1, "ñ");
        assert_eq!(located(&index, text, "c.0").1, "x");
        assert!(index.get(&path("d")).is_none());
    }

    #[test]
    fn yaml_invalid_keeps_what_came_before() {
        let text = "load:\n  users: 5\n  stages: [1, 2\nclasses: {";
        let index = SpanIndex::from_yaml(text);
        assert_eq!(located(&index, text, "load.users").1, "5");
        assert_eq!(located(&index, text, "load.stages.0").1, "1");
        // The list was cut short by the error, yet still located from its `[`.
        let (found, stages) = index.nearest(&path("load.stages.7")).expect("parent");
        assert_eq!(found, path("load.stages"));
        assert!(slice(text, stages.value).starts_with("[1"));
        assert_spans_slice(&index, text);
    }

    const TOML_PLAN: &str = indoc! {r#"
        name = "Cabaña del Lago"
        description = "Réservations — été"
        defaults.timeout = "5s"

        [classes.ReservationUser]
        weight = 3
        headers = { Accept = "application/json", "X-Trace" = 'on', retry.max = 2 }

        [classes.ReservationUser.tasks.book]
        method = "POST"
        path = "/reservations/{{ room_id }}"

        [[load.stages]]
        duration = "30s"
        users = 10

        [[load.stages]] # ramp up
        duration = "1m"
        usres = 50

        [load.stages.check]
        p95 = "200ms"
    "#};

    #[test]
    fn toml_locates_nested_key() {
        let index = SpanIndex::from_toml(TOML_PLAN);
        let (key, value) = located(&index, TOML_PLAN, "classes.ReservationUser.tasks.book.path");
        assert_eq!(key, Some("path"));
        assert_eq!(value, "\"/reservations/{{ room_id }}\"");
        let (key, header) = located(&index, TOML_PLAN, "classes.ReservationUser.tasks.book");
        assert_eq!(key, Some("book"));
        assert_eq!(header, "[classes.ReservationUser.tasks.book]");
    }

    #[test]
    fn toml_locates_array_of_tables_entries() {
        let index = SpanIndex::from_toml(TOML_PLAN);
        assert_eq!(
            located(&index, TOML_PLAN, "load.stages.0.users"),
            (Some("users"), "10")
        );
        assert_eq!(
            located(&index, TOML_PLAN, "load.stages.1.usres"),
            (Some("usres"), "50")
        );
        let second = index.get(&path("load.stages.1")).expect("second stage");
        assert_eq!(second.key, None);
        assert_eq!(slice(TOML_PLAN, second.value), "[[load.stages]]");
        assert!(second.value.start > TOML_PLAN.find("users = 10").expect("first stage"));
        assert_eq!(
            located(&index, TOML_PLAN, "load.stages.1.check.p95").1,
            "\"200ms\""
        );
        assert_eq!(
            located(&index, TOML_PLAN, "load.stages.1.check").1,
            "[load.stages.check]"
        );
        assert_eq!(
            located(&index, TOML_PLAN, "load.stages").1,
            "[[load.stages]]"
        );
    }

    #[test]
    fn toml_locates_keys_in_inline_tables() {
        let index = SpanIndex::from_toml(TOML_PLAN);
        let headers = path("classes.ReservationUser.headers");
        let trace = index.get(&headers.key("X-Trace")).expect("X-Trace");
        assert_eq!(
            trace.key.map(|key| slice(TOML_PLAN, key)),
            Some("\"X-Trace\"")
        );
        assert_eq!(slice(TOML_PLAN, trace.value), "'on'");
        let max = index
            .get(&headers.key("retry").key("max"))
            .expect("retry.max");
        assert_eq!(slice(TOML_PLAN, max.value), "2");
        let retry = index
            .get(&headers.key("retry"))
            .expect("implicit inline table");
        assert_eq!(slice(TOML_PLAN, retry.value), "retry");
    }

    #[test]
    fn toml_locates_dotted_keys_and_implicit_tables() {
        let index = SpanIndex::from_toml(TOML_PLAN);
        assert_eq!(
            located(&index, TOML_PLAN, "defaults.timeout"),
            (Some("timeout"), "\"5s\"")
        );
        assert_eq!(
            located(&index, TOML_PLAN, "defaults"),
            (Some("defaults"), "defaults")
        );
        // `classes` is only implied by headers: it points into the first of them.
        let classes = index.get(&path("classes")).expect("implicit table");
        let header = TOML_PLAN.find("[classes.ReservationUser]").expect("header");
        assert_eq!(classes.value.start, header + 1);
        assert_eq!(slice(TOML_PLAN, classes.value), "classes");
    }

    #[test]
    fn toml_byte_offsets_survive_multibyte_text() {
        let index = SpanIndex::from_toml(TOML_PLAN);
        let usres = index.get(&path("load.stages.1.usres")).expect("usres");
        let key = usres.key.expect("key span");
        assert_eq!(&TOML_PLAN[key.start..key.end], "usres");
        assert_eq!(
            located(&index, TOML_PLAN, "description").1,
            "\"Réservations — été\""
        );
    }

    #[test]
    fn toml_nearest_missing_child_is_parent() {
        let index = SpanIndex::from_toml(TOML_PLAN);
        let (found, located) = index
            .nearest(&path("load.stages.0.think_time"))
            .expect("parent");
        assert_eq!(found, path("load.stages.0"));
        assert_eq!(
            located.value.start,
            TOML_PLAN.find("[[load.stages]]").expect("header")
        );
        let (found, _) = index.nearest(&path("nowhere.at.all")).expect("root");
        assert!(found.is_root());
    }

    #[test]
    fn toml_quoted_headers_and_arrays() {
        let text = indoc! {r#"
            [ "odd]key" . 'x' ]
            list = [1, { y = "ñ" }, [3]]
        "#};
        let index = SpanIndex::from_toml(text);
        let odd = KeyPath::root().key("odd]key").key("x");
        let table = index.get(&odd).expect("quoted header");
        assert_eq!(slice(text, table.value), r#"[ "odd]key" . 'x' ]"#);
        assert_eq!(slice(text, table.key.expect("key")), "'x'");
        let list = odd.key("list");
        assert_eq!(
            slice(text, index.get(&list.index(1).key("y")).expect("y").value),
            "\"ñ\""
        );
        assert_eq!(
            slice(text, index.get(&list.index(2).index(0)).expect("3").value),
            "3"
        );
    }

    #[test]
    fn toml_invalid_gives_empty_index() {
        let index = SpanIndex::from_toml("[load]\nusers = \n");
        assert_eq!(index.iter().count(), 0);
        assert!(index.nearest(&path("load.users")).is_none());
    }

    /// Random edits of a valid plan: indicators and multibyte chars at random places.
    fn mutated(plan: &'static str) -> impl Strategy<Value = String> {
        let edit = (
            any::<prop::sample::Index>(),
            0..3usize,
            prop::sample::select(vec![
                "", ":", "- ", "[", "]", "{", "}", ",", "\"", "'", "#", "\n", "  ", "&a ", "*a",
                "|", ">", "? ", "ñ", "—", "=", ".", "[[", "]]", "\t", "\r\n", "\u{feff}", "---\n",
            ]),
        );
        prop::collection::vec(edit, 1..8).prop_map(move |edits| {
            let mut text = plan.to_owned();
            for (at, removed, inserted) in edits {
                let boundaries: Vec<usize> = text
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([text.len()])
                    .collect();
                let start = at.index(boundaries.len());
                let end = boundaries[(start + removed).min(boundaries.len() - 1)];
                text.replace_range(boundaries[start]..end, inserted);
            }
            text
        })
    }

    proptest! {
        #[test]
        fn from_yaml_never_panics(text in any::<String>()) {
            assert_spans_slice(&SpanIndex::from_yaml(&text), &text);
        }

        #[test]
        fn from_toml_never_panics(text in any::<String>()) {
            assert_spans_slice(&SpanIndex::from_toml(&text), &text);
        }

        #[test]
        fn mutated_yaml_plans_never_panic(text in mutated(YAML_PLAN)) {
            assert_spans_slice(&SpanIndex::from_yaml(&text), &text);
        }

        #[test]
        fn mutated_toml_plans_never_panic(text in mutated(TOML_PLAN)) {
            assert_spans_slice(&SpanIndex::from_toml(&text), &text);
        }
    }
}
