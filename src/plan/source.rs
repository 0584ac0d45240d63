//! `Source`: one plan file's path and text, its parsed value tree and its span index.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::diagnostic::{PlanError, PlanErrorKind, PlanErrors};
use super::key_path::KeyPath;
use super::locate::{Span, SpanIndex};
use super::read::{MAX_PLAN_BYTES, read_bounded};

/// The two plan formats; chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Toml,
}

/// A plan file as read from disk.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as the user gave it (or as `extends` resolved it), for messages.
    pub path: PathBuf,
    pub text: String,
    pub format: Format,
}

/// A position for people: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

impl Source {
    /// Reads a plan file. A missing or unreadable file is a plan error at `at` (the
    /// `extends` key that named it, or the root for the file given on the command line).
    pub fn read(path: &Path) -> Result<Self, PlanErrorKind> {
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("toml") => Format::Toml,
            _ => {
                return Err(PlanErrorKind::UnknownFormat {
                    file: path.display().to_string(),
                });
            }
        };
        let bytes = read_bounded(path, MAX_PLAN_BYTES, "a plan file").map_err(|e| {
            PlanErrorKind::Unreadable {
                file: path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        let text = String::from_utf8(bytes).map_err(|e| PlanErrorKind::Unreadable {
            file: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            text,
            format,
        })
    }

    /// An in-memory source, for tests and `--set` values.
    pub fn from_text(path: impl Into<PathBuf>, text: impl Into<String>, format: Format) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
            format,
        }
    }

    /// The directory relative paths in this file are resolved against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or_else(|| Path::new(""))
    }

    /// Parses the text into a generic value tree. Syntax errors carry the parser's location.
    pub fn parse_value(&self) -> Result<Value, PlanErrors> {
        match self.format {
            Format::Yaml => {
                if self.text.trim().is_empty() {
                    return Ok(Value::Object(Default::default()));
                }
                serde_yaml::from_str::<Value>(&self.text).map_err(|e| {
                    let span = e.location().map(|l| {
                        let start = l.index().min(self.text.len());
                        Span { start, end: start }
                    });
                    PlanError::new(
                        KeyPath::root(),
                        PlanErrorKind::Syntax {
                            message: yaml_message(&e),
                        },
                    )
                    .at(self, span)
                    .into()
                })
            }
            Format::Toml => toml::from_str::<Value>(&self.text).map_err(|e| {
                let span = e.span().map(|r| Span {
                    start: r.start,
                    end: r.end,
                });
                PlanError::new(
                    KeyPath::root(),
                    PlanErrorKind::Syntax {
                        message: e.message().trim().to_owned(),
                    },
                )
                .at(self, span)
                .into()
            }),
        }
    }

    /// The span index of this file's keys and values.
    pub fn index(&self) -> SpanIndex {
        match self.format {
            Format::Yaml => SpanIndex::from_yaml(&self.text),
            Format::Toml => SpanIndex::from_toml(&self.text),
        }
    }

    /// Line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        LineCol { line, col }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// serde_yaml appends " at line X column Y" to its messages; the location is shown
/// separately, so strip it.
fn yaml_message(error: &serde_yaml::Error) -> String {
    let message = error.to_string();
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    }
}
