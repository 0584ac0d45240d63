//! A serde `Deserializer` over the merged value tree that knows where it is.
//!
//! Each node carries its `KeyPath`, so a mistake is recorded as a typed `TreeError` (what
//! went wrong, and where) rather than as serde's English message: nothing downstream reads
//! library text. What a value should have been (`Want`) comes from the method serde called
//! (`deserialize_i64` wants a whole number) or from the name a raw type passed
//! (`deserialize_struct("RawClass", …)`, `deserialize_newtype_struct("Scalar", …)`).

use std::fmt::Display;

use serde::de::{self, DeserializeSeed, Expected, Unexpected, Visitor};
use serde_json::Value;

use super::key_path::KeyPath;

/// What a value should have been, as serde asked for it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Want {
    Text,
    WholeNumber,
    Natural,
    Number,
    Bool,
    List,
    Map,
    /// A raw type, by the name it passed (`RawClass`, `Scalar`).
    Shape(&'static str),
    /// serde did not say (an enum, a unit): only what was found is reported.
    Unknown,
}

/// One mistake, typed.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TreeErrorKind {
    UnknownKey {
        key: String,
        expected: &'static [&'static str],
    },
    MissingKey {
        key: &'static str,
    },
    DuplicateKey {
        key: &'static str,
    },
    WrongType(Want),
    /// A raw type's own words (`RawSlo`, `RawExclusive`): plan words, never a library's.
    Custom(String),
}

/// A mistake and, once known, the path of the value it is about.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TreeError {
    pub(crate) kind: TreeErrorKind,
    pub(crate) path: Option<KeyPath>,
}

impl TreeError {
    fn new(kind: TreeErrorKind) -> Self {
        TreeError { kind, path: None }
    }

    fn wrong(want: Want, path: &KeyPath) -> Self {
        TreeError {
            kind: TreeErrorKind::WrongType(want),
            path: Some(path.clone()),
        }
    }

    /// Places an error raised without a path at `path`; a type mistake serde did not
    /// describe takes what this node wants. Errors from deeper nodes keep theirs.
    fn locate(mut self, path: &KeyPath, want: &Want) -> Self {
        if self.path.is_none() {
            self.path = Some(path.clone());
            if self.kind == TreeErrorKind::WrongType(Want::Unknown) {
                self.kind = TreeErrorKind::WrongType(want.clone());
            }
        }
        self
    }
}

impl Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.kind)
    }
}

impl std::error::Error for TreeError {}

impl de::Error for TreeError {
    fn custom<T: Display>(message: T) -> Self {
        TreeError::new(TreeErrorKind::Custom(message.to_string()))
    }

    fn invalid_type(_: Unexpected<'_>, _: &dyn Expected) -> Self {
        TreeError::new(TreeErrorKind::WrongType(Want::Unknown))
    }

    fn invalid_value(_: Unexpected<'_>, _: &dyn Expected) -> Self {
        TreeError::new(TreeErrorKind::WrongType(Want::Unknown))
    }

    fn invalid_length(_: usize, _: &dyn Expected) -> Self {
        TreeError::new(TreeErrorKind::WrongType(Want::Unknown))
    }

    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        TreeError::new(TreeErrorKind::WrongType(Want::Unknown))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        TreeError::new(TreeErrorKind::UnknownKey {
            key: field.to_owned(),
            expected,
        })
    }

    fn missing_field(field: &'static str) -> Self {
        TreeError::new(TreeErrorKind::MissingKey { key: field })
    }

    fn duplicate_field(field: &'static str) -> Self {
        TreeError::new(TreeErrorKind::DuplicateKey { key: field })
    }
}

/// Deserialises `T` from `value`, or the first mistake with its path.
pub(super) fn from_tree<'de, T: de::Deserialize<'de>>(value: &'de Value) -> Result<T, TreeError> {
    let root = KeyPath::root();
    T::deserialize(Tree::new(value, root.clone())).map_err(|e| e.locate(&root, &Want::Unknown))
}

/// One node of the tree and where it is.
struct Tree<'de> {
    value: &'de Value,
    path: KeyPath,
    /// The raw type that asked for this node by name, if one did.
    shape: Option<&'static str>,
}

impl<'de> Tree<'de> {
    fn new(value: &'de Value, path: KeyPath) -> Self {
        Tree {
            value,
            path,
            shape: None,
        }
    }

    fn want(&self, otherwise: Want) -> Want {
        self.shape.map_or(otherwise, Want::Shape)
    }
}

macro_rules! whole_numbers {
    ($($method:ident => $visit:ident, $as:ident, $want:expr;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
            match self.value.$as() {
                Some(n) => visitor.$visit::<TreeError>(n).map_err(|e| e.locate(&self.path, &$want)),
                None => Err(TreeError::wrong(self.want($want), &self.path)),
            }
        })*
    };
}

impl<'de> de::Deserializer<'de> for Tree<'de> {
    type Error = TreeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        let want = self.want(Want::Unknown);
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (_, Some(i), _) => visitor.visit_i64(i),
                (_, _, Some(f)) => visitor.visit_f64(f),
                _ => visitor.visit_unit(),
            },
            Value::String(text) => visitor.visit_borrowed_str(text),
            Value::Array(items) => visitor.visit_seq(Items::new(items, &self.path)),
            Value::Object(map) => visitor.visit_map(Entries::new(map, &self.path)),
        };
        result.map_err(|e| e.locate(&self.path, &want))
    }

    whole_numbers! {
        deserialize_i8 => visit_i64, as_i64, Want::WholeNumber;
        deserialize_i16 => visit_i64, as_i64, Want::WholeNumber;
        deserialize_i32 => visit_i64, as_i64, Want::WholeNumber;
        deserialize_i64 => visit_i64, as_i64, Want::WholeNumber;
        deserialize_u8 => visit_u64, as_u64, Want::Natural;
        deserialize_u16 => visit_u64, as_u64, Want::Natural;
        deserialize_u32 => visit_u64, as_u64, Want::Natural;
        deserialize_u64 => visit_u64, as_u64, Want::Natural;
        deserialize_f32 => visit_f64, as_f64, Want::Number;
        deserialize_f64 => visit_f64, as_f64, Want::Number;
        deserialize_bool => visit_bool, as_bool, Want::Bool;
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.value {
            Value::String(text) => visitor
                .visit_borrowed_str::<TreeError>(text)
                .map_err(|e| e.locate(&self.path, &Want::Text)),
            _ => Err(TreeError::wrong(self.want(Want::Text), &self.path)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => {
                let path = self.path.clone();
                visitor
                    .visit_some(self)
                    .map_err(|e| e.locate(&path, &Want::Unknown))
            }
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        let path = self.path.clone();
        let shaped = Tree {
            shape: Some(name),
            ..self
        };
        visitor
            .visit_newtype_struct(shaped)
            .map_err(|e| e.locate(&path, &Want::Shape(name)))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        let want = self.want(Want::List);
        match self.value {
            Value::Array(items) => visitor
                .visit_seq(Items::new(items, &self.path))
                .map_err(|e| e.locate(&self.path, &want)),
            _ => Err(TreeError::wrong(want, &self.path)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        let want = self.want(Want::Map);
        match self.value {
            Value::Object(map) => visitor
                .visit_map(Entries::new(map, &self.path))
                .map_err(|e| e.locate(&self.path, &want)),
            _ => Err(TreeError::wrong(want, &self.path)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        Tree {
            shape: Some(name),
            ..self
        }
        .deserialize_map(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bytes byte_buf unit unit_struct enum
    }
}

/// A list's items, each at its index.
struct Items<'de, 'p> {
    items: std::slice::Iter<'de, Value>,
    next: usize,
    path: &'p KeyPath,
}

impl<'de, 'p> Items<'de, 'p> {
    fn new(items: &'de [Value], path: &'p KeyPath) -> Self {
        Items {
            items: items.iter(),
            next: 0,
            path,
        }
    }
}

impl<'de> de::SeqAccess<'de> for Items<'de, '_> {
    type Error = TreeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TreeError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let path = self.path.index(self.next);
        self.next += 1;
        seed.deserialize(Tree::new(item, path.clone()))
            .map(Some)
            .map_err(|e| e.locate(&path, &Want::Unknown))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A map's entries, each value at its key.
struct Entries<'de, 'p> {
    entries: serde_json::map::Iter<'de>,
    value: Option<(&'de Value, KeyPath)>,
    path: &'p KeyPath,
}

impl<'de, 'p> Entries<'de, 'p> {
    fn new(map: &'de serde_json::Map<String, Value>, path: &'p KeyPath) -> Self {
        Entries {
            entries: map.iter(),
            value: None,
            path,
        }
    }
}

impl<'de> de::MapAccess<'de> for Entries<'de, '_> {
    type Error = TreeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TreeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let path = self.path.key(key.as_str());
        let deserializer = de::value::BorrowedStrDeserializer::<TreeError>::new(key);
        let key = seed
            .deserialize(deserializer)
            .map_err(|e| e.locate(&path, &Want::Text))?;
        self.value = Some((value, path));
        Ok(Some(key))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, TreeError> {
        let (value, path) = self
            .value
            .take()
            .ok_or_else(|| TreeError::new(TreeErrorKind::WrongType(Want::Unknown)))?;
        seed.deserialize(Tree::new(value, path.clone()))
            .map_err(|e| e.locate(&path, &Want::Unknown))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::raw::RawPlan;
    use serde_json::json;

    fn first_error(value: Value) -> TreeError {
        from_tree::<RawPlan>(&value).expect_err("a mistake")
    }

    #[test]
    fn unknown_keys_are_typed_and_placed_at_the_key() {
        let error = first_error(json!({"classes": {"A": {"wieght": 1}}}));
        let TreeErrorKind::UnknownKey { key, expected } = &error.kind else {
            panic!("{error:?}")
        };
        assert_eq!(key, "wieght");
        assert!(expected.contains(&"weight"));
        let path = KeyPath::root().key("classes").key("A").key("wieght");
        assert_eq!(error.path, Some(path));
    }

    #[test]
    fn missing_keys_are_placed_at_their_map() {
        let error = first_error(json!({"data": {"users": {"mode": "cycle"}}}));
        assert_eq!(error.kind, TreeErrorKind::MissingKey { key: "file" });
        assert_eq!(error.path, Some(KeyPath::root().key("data").key("users")));
    }

    #[test]
    fn wrong_types_say_what_was_wanted() {
        let error = first_error(json!({"load": {"users": "many"}}));
        assert_eq!(error.kind, TreeErrorKind::WrongType(Want::WholeNumber));
        assert_eq!(error.path, Some(KeyPath::root().key("load").key("users")));
        let error = first_error(json!({"classes": {"A": []}}));
        assert_eq!(
            error.kind,
            TreeErrorKind::WrongType(Want::Shape("RawClass"))
        );
        let error = first_error(json!({"load": {"spawn-rate": [1]}}));
        assert_eq!(error.kind, TreeErrorKind::WrongType(Want::Shape("Scalar")));
        let path = KeyPath::root().key("slos").index(0).key("requst");
        let error = first_error(json!({"slos": [{"requst": "x"}]}));
        assert_eq!(error.path, Some(path));
    }

    #[test]
    fn hand_written_shapes_keep_their_paths() {
        // A scoped SLO is read in place: its own keys' mistakes are typed and placed.
        let error = first_error(json!({"slos": [{"check": "p95 < 1s", "abort": "yes"}]}));
        assert_eq!(error.kind, TreeErrorKind::WrongType(Want::Bool));
        let path = KeyPath::root().key("slos").index(0).key("abort");
        assert_eq!(error.path, Some(path));
        // A per-task rate that is no rate names the whole `rate`, as its shape says.
        let error = first_error(json!({"load": {"rate": {"t": [1]}}}));
        assert_eq!(error.kind, TreeErrorKind::WrongType(Want::Shape("RawRate")));
        assert_eq!(error.path, Some(KeyPath::root().key("load").key("rate")));
        // A raw type's own words are kept, at the key they are about.
        let plan = json!({"classes": {"A": {"tasks": {"t": {"exclusive-outcomes": 3}}}}});
        let error = first_error(plan);
        assert!(matches!(error.kind, TreeErrorKind::Custom(_)), "{error:?}");
        let path = ["classes", "A", "tasks", "t", "exclusive-outcomes"]
            .iter()
            .fold(KeyPath::root(), |path, key| path.key(*key));
        assert_eq!(error.path, Some(path));
    }
}
