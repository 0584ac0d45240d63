//! `KeyPath`: where a value sits in a plan (`classes.ReservationUser.tasks.book.path`).
//!
//! Every plan diagnostic carries one; `Source::locate` turns it into a line and column.

use std::fmt;

/// One step into a plan document: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// A path from the document root to a value, e.g. `load.stages[1].users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The document root (an empty path).
    pub(crate) fn root() -> Self {
        Self(Vec::new())
    }

    /// This path extended by a map key.
    pub(crate) fn key(&self, key: impl Into<String>) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.into()));
        Self(segments)
    }

    /// This path extended by a list index.
    pub(crate) fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        Self(segments)
    }

    /// Parses the dotted form used by `--set` (`load.users`, `classes.A.weight`,
    /// `load.stages.0.users`: a purely numeric segment is a list index).
    pub(crate) fn parse_dotted(text: &str) -> Option<Self> {
        if text.is_empty() {
            return None;
        }
        let mut segments = Vec::new();
        for part in text.split('.') {
            if part.is_empty() {
                return None;
            }
            segments.push(match part.parse::<usize>() {
                Ok(index) => Segment::Index(index),
                Err(_) => Segment::Key(part.to_owned()),
            });
        }
        Some(Self(segments))
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub(crate) fn pop(&mut self) -> Option<Segment> {
        self.0.pop()
    }

    pub(crate) fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The last map key on the path, if the path ends in one.
    pub(crate) fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Segment::Key(key)) => Some(key),
            _ => None,
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the whole plan");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_keys_dotted_and_indices_bracketed() {
        let path = KeyPath::root()
            .key("load")
            .key("stages")
            .index(1)
            .key("users");
        assert_eq!(path.to_string(), "load.stages[1].users");
    }

    #[test]
    fn parses_dotted_set_paths() {
        let path = KeyPath::parse_dotted("load.stages.0.users").unwrap();
        assert_eq!(
            path,
            KeyPath::root()
                .key("load")
                .key("stages")
                .index(0)
                .key("users")
        );
        assert!(KeyPath::parse_dotted("load..users").is_none());
        assert!(KeyPath::parse_dotted("").is_none());
    }
}
