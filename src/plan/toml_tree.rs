//! TOML text → value tree and span index, from one toml_edit parse, whose items carry
//! their own spans.

use std::ops::Range;

use serde_json::{Map, Number};
use toml_edit::{ArrayOfTables, ImDocument, InlineTable, Item, Table, TomlError, Value};

use super::key_path::KeyPath;
use super::limits::{MAX_DEPTH, MAX_VALUES};
use super::span::{Located, Span, SpanIndex};

/// Why a TOML document was not read.
#[derive(Debug)]
pub(crate) enum TomlRefusal {
    Syntax(TomlError),
    /// Nested deeper than `MAX_DEPTH`, at the key that went too deep.
    TooDeep(Option<Span>),
    /// More than `MAX_VALUES` values: found before the span index is built.
    TooManyValues,
}

/// Reads a TOML document into its value tree and span index.
pub(super) fn parse(text: &str) -> Result<(serde_json::Value, SpanIndex), TomlRefusal> {
    let document = ImDocument::parse(text).map_err(TomlRefusal::Syntax)?;
    let indexer = TomlIndexer::new(text);
    let value = indexer.table(document.as_table(), 0)?;
    if count_values(&value) > MAX_VALUES {
        return Err(TomlRefusal::TooManyValues);
    }
    Ok((value, indexer.index(document.as_table())))
}

/// Values in a tree: every scalar, list and map, keys counted with their values.
fn count_values(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(count_values).sum::<usize>(),
        serde_json::Value::Object(map) => {
            1 + map.values().map(|v| 1 + count_values(v)).sum::<usize>()
        }
        _ => 1,
    }
}

impl TomlIndexer<'_> {
    fn too_deep(&self, key: Option<&toml_edit::Key>) -> TomlRefusal {
        TomlRefusal::TooDeep(self.span(key.and_then(toml_edit::Key::span)))
    }

    fn table(&self, table: &Table, depth: usize) -> Result<serde_json::Value, TomlRefusal> {
        let mut map = Map::new();
        for (name, item) in table.iter() {
            let value = match item {
                Item::None => continue,
                _ if depth >= MAX_DEPTH => return Err(self.too_deep(table.key(name))),
                Item::Value(value) => self.value(value, depth + 1)?,
                Item::Table(inner) => self.table(inner, depth + 1)?,
                Item::ArrayOfTables(tables) => serde_json::Value::Array(
                    tables
                        .iter()
                        .map(|t| self.table(t, depth + 2))
                        .collect::<Result<_, _>>()?,
                ),
            };
            map.insert(name.to_owned(), value);
        }
        Ok(serde_json::Value::Object(map))
    }

    fn inline(&self, table: &InlineTable, depth: usize) -> Result<serde_json::Value, TomlRefusal> {
        let mut map = Map::new();
        for (name, value) in table.iter() {
            if depth >= MAX_DEPTH {
                return Err(self.too_deep(table.key(name)));
            }
            map.insert(name.to_owned(), self.value(value, depth + 1)?);
        }
        Ok(serde_json::Value::Object(map))
    }

    fn value(&self, value: &Value, depth: usize) -> Result<serde_json::Value, TomlRefusal> {
        Ok(match value {
            Value::String(s) => serde_json::Value::String(s.value().clone()),
            Value::Integer(i) => serde_json::Value::Number(Number::from(*i.value())),
            Value::Float(f) => Number::from_f64(*f.value())
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Boolean(b) => serde_json::Value::Bool(*b.value()),
            Value::Datetime(d) => serde_json::Value::String(d.value().to_string()),
            Value::Array(items) if depth >= MAX_DEPTH && !items.is_empty() => {
                return Err(TomlRefusal::TooDeep(self.span(value.span())));
            }
            Value::Array(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|v| self.value(v, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Value::InlineTable(table) => self.inline(table, depth)?,
        })
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
}

impl<'t> TomlIndexer<'t> {
    fn new(text: &'t str) -> TomlIndexer<'t> {
        TomlIndexer { text }
    }

    /// Walks with an explicit stack: dotted keys and headers can nest arbitrarily deep.
    fn index(&self, root: &Table) -> SpanIndex {
        let mut index = SpanIndex::default();
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
                index.insert(work.path.clone(), located);
            }
            if work.path.segments().len() < MAX_DEPTH {
                self.push_children(&work, &mut stack);
            }
        }
        index
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

    #[test]
    fn values_and_spans_come_from_one_parse() {
        let text = "host = \"h\"\n[load]\nusers = 5\nat = 1979-05-27\n";
        let (value, index) = parse(text).unwrap();
        let expected = serde_json::json!({"host": "h", "load": {"users": 5, "at": "1979-05-27"}});
        assert_eq!(value, expected);
        let users = index
            .get(&KeyPath::root().key("load").key("users"))
            .unwrap();
        assert_eq!(&text[users.value.start..users.value.end], "5");
        let load = index.get(&KeyPath::root().key("load")).unwrap();
        assert_eq!(&text[load.value.start..load.value.end], "[load]");
    }

    #[test]
    fn a_key_written_twice_is_a_located_syntax_error() {
        let text = "[load]\nusers = 1\nusers = 2\n";
        let Err(TomlRefusal::Syntax(error)) = parse(text) else {
            panic!("not refused")
        };
        assert_eq!(
            error.message().trim(),
            "duplicate key `users` in table `load`"
        );
        assert_eq!(error.span().map(|r| r.start), text.rfind("users"));
    }

    #[test]
    fn dotted_keys_nested_too_deep_are_refused_at_a_key() {
        let keys = vec!["k"; MAX_DEPTH + 4].join(".");
        let text = format!("{keys} = 1\n");
        let Err(TomlRefusal::TooDeep(Some(at))) = parse(&text) else {
            panic!("not refused")
        };
        assert_eq!(&text[at.start..at.end], "k");
    }
}
