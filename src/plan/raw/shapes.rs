//! The values a plan may write in more than one shape (one or many, a number or text),
//! read by hand so that a wrong shape is reported in plan words.

use serde::de::{Unexpected, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// One string or a list of them.
#[derive(Debug, Clone)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(item) => vec![item.as_str()],
            OneOrMany::Many(items) => items.iter().map(String::as_str).collect(),
        }
    }
}

/// `exclusive-outcomes`: `true`, one group of outcome names, or several groups.
#[derive(Debug, Clone)]
pub(crate) enum RawExclusive {
    All(bool),
    Groups(Vec<Vec<String>>),
}

// By hand, so that a wrong shape says what is expected (untagged enums cannot).
impl<'de> Deserialize<'de> for RawExclusive {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let names = |items: &[Value]| -> Option<Vec<String>> {
            items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let value = Value::deserialize(deserializer)?;
        let groups = match &value {
            Value::Bool(all) => return Ok(RawExclusive::All(*all)),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                names(items).map(|group| vec![group])
            }
            Value::Array(items) => items
                .iter()
                .map(|group| group.as_array().and_then(|g| names(g)))
                .collect(),
            _ => None,
        };
        groups.map(RawExclusive::Groups).ok_or_else(|| {
            D::Error::custom(
                "expected `true`, a list of this request's outcome names (`[created, overlap]`), or a list of such lists",
            )
        })
    }
}

/// A number or a string in the file; plans may write `10` or `"10/s"`.
#[derive(Debug, Clone)]
pub(crate) enum Scalar {
    Int(i64),
    Float(f64),
    Text(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Int(n) => write!(f, "{n}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Text(s) => f.write_str(s),
        }
    }
}

/// `expect-status`: one item or a list of them.
#[derive(Debug, Clone)]
pub(crate) enum RawStatuses {
    One(Scalar),
    Many(Vec<Scalar>),
}

impl RawStatuses {
    pub(crate) fn items(&self) -> Vec<String> {
        match self {
            RawStatuses::One(item) => vec![item.to_string()],
            RawStatuses::Many(items) => items.iter().map(Scalar::to_string).collect(),
        }
    }
}

// The one-or-many shapes below are read by hand, as a `Value` checked against each form,
// and named through `deserialize_newtype_struct`: the plan's deserialiser then says what
// the key takes in plan words (see `plan::deserialize`), with no untagged enum's message.

/// Reads a `Value` through a newtype named `name`, then makes `T` of it or says it does
/// not fit (the deserialiser knows the name, hence the words).
pub(super) fn shaped<'de, D, T>(
    deserializer: D,
    name: &'static str,
    make: fn(&Value) -> Option<T>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct Shaped<T>(fn(&Value) -> Option<T>);

    impl<'de, T> Visitor<'de> for Shaped<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a value of another shape")
        }

        fn visit_newtype_struct<D: Deserializer<'de>>(self, inner: D) -> Result<T, D::Error> {
            let value = Value::deserialize(inner)?;
            (self.0)(&value)
                .ok_or_else(|| serde::de::Error::invalid_type(Unexpected::Other("value"), &self))
        }
    }

    deserializer.deserialize_newtype_struct(name, Shaped(make))
}

impl Scalar {
    pub(super) fn from_value(value: &Value) -> Option<Scalar> {
        match value {
            Value::Number(n) => Some(match n.as_i64() {
                Some(i) => Scalar::Int(i),
                None => Scalar::Float(n.as_f64()?),
            }),
            Value::String(text) => Some(Scalar::Text(text.clone())),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, "Scalar", Scalar::from_value)
    }
}

impl<'de> Deserialize<'de> for RawStatuses {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, "RawStatuses", |value| match value {
            Value::Array(items) => items
                .iter()
                .map(Scalar::from_value)
                .collect::<Option<_>>()
                .map(RawStatuses::Many),
            other => Scalar::from_value(other).map(RawStatuses::One),
        })
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        shaped(deserializer, "OneOrMany", |value| match value {
            Value::String(item) => Some(OneOrMany::One(item.clone())),
            Value::Array(items) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .map(OneOrMany::Many),
            _ => None,
        })
    }
}
