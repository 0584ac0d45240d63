//! The span index: where each key and value of a plan file sits in its source text.
//!
//! Built in the same walk that builds the value tree (`yaml.rs`, `toml_tree.rs`), so the
//! positions are those of the parse that produced the values.
//!
//! Invariants: every [`Span`] is a UTF-8 *byte* range of the text the index was built from,
//! lies within it, and starts and ends on char boundaries, so `&text[span.start..span.end]`
//! never panics. A missing entry only costs a diagnostic its position, never the diagnostic.

use std::collections::HashMap;

use super::key_path::KeyPath;

/// A byte range in the source text (`start..end`, UTF-8 byte offsets, end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub(crate) start: usize,
    /// Offset one past the last byte (`start` for an empty value).
    pub(crate) end: usize,
}

impl Span {
    /// A span that is never inverted, whatever the arithmetic that produced `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// A zero-length span: the position of something that was not written.
    pub(crate) fn point(at: usize) -> Span {
        Span { start: at, end: at }
    }

    /// A byte range, clamped to the text so a surprising range cannot break slicing.
    pub(crate) fn clamped(range: std::ops::Range<usize>, text: &str) -> Option<Span> {
        let span = Span::new(range.start.min(text.len()), range.end.min(text.len()));
        text.get(span.start..span.end).map(|_| span)
    }
}

/// Where one value of the document sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// The map key naming this value (None for list items and the root).
    pub(crate) key: Option<Span>,
    /// The value itself: a scalar's text; for a map or list, at least its first line (a
    /// TOML table: its `[header]`).
    pub(crate) value: Span,
}

/// Positions of every key and value of one plan file, by [`KeyPath`].
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanIndex {
    entries: HashMap<KeyPath, Located>,
}

impl SpanIndex {
    /// The position of exactly `path`, if it was written in the file.
    pub(crate) fn get(&self, path: &KeyPath) -> Option<&Located> {
        self.entries.get(path)
    }

    /// Every indexed path, by value.
    pub(crate) fn into_entries(self) -> impl Iterator<Item = (KeyPath, Located)> {
        self.entries.into_iter()
    }

    /// Records a position; a path seen again keeps its first occurrence.
    pub(crate) fn insert(&mut self, path: KeyPath, located: Located) {
        self.entries.entry(path).or_insert(located);
    }
}

/// Converts the parser's char offsets to byte offsets.
pub(crate) struct CharOffsets {
    /// Bytes skipped before the parsed text (a byte-order mark).
    base: usize,
    /// Byte offset of each char of the parsed text, plus its length; None for ASCII text,
    /// where char and byte offsets coincide.
    table: Option<Vec<usize>>,
    /// Length of the whole text, the clamp for every offset.
    len: usize,
}

impl CharOffsets {
    pub(crate) fn new(text: &str, base: usize) -> CharOffsets {
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

    /// The byte offset of char `index` of the parsed text.
    pub(crate) fn byte(&self, index: usize) -> usize {
        let relative = match &self.table {
            None => index,
            Some(table) => table.get(index).copied().unwrap_or(self.len),
        };
        (self.base + relative).min(self.len)
    }
}
