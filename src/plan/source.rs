//! `Source`: one plan file's path and text, its parsed value tree and its span index.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::diagnostic::{PlanError, PlanErrorKind, PlanErrors};
use super::key_path::KeyPath;
use super::read::{MAX_PLAN_BYTES, read_bounded};
use super::span::{Span, SpanIndex};
use super::syntax;
use super::toml_tree::{self, TomlRefusal};
use super::yaml::{self, MAX_DEPTH, MAX_VALUES, Refusal};

/// The two plan formats; chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Yaml,
    Toml,
}

/// A plan file as read from disk.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The path as the user gave it (or as `extends` resolved it), for messages.
    pub(crate) path: PathBuf,
    pub(crate) text: String,
    pub(crate) format: Format,
}

/// Why a plan file could not be read.
#[derive(Debug)]
pub(crate) enum ReadFailure {
    /// Not read at all: the caller says where it was named.
    Unreadable(PlanErrorKind),
    /// Read, and wrong at a place in it.
    Located(PlanErrors),
}

/// A position for people: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

impl Source {
    /// Reads a plan file. A missing or unreadable file is `Unreadable` (the caller
    /// places it at the `extends` key that named the file, or in the file given on the
    /// command line); text that is not UTF-8 is an error located in the file itself.
    pub(crate) fn read(path: &Path) -> Result<Self, ReadFailure> {
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("toml") => Format::Toml,
            _ => {
                return Err(ReadFailure::Unreadable(PlanErrorKind::UnknownFormat {
                    file: path.display().to_string(),
                }));
            }
        };
        let bytes = read_bounded(path, MAX_PLAN_BYTES, "a plan file").map_err(|e| {
            ReadFailure::Unreadable(PlanErrorKind::Unreadable {
                file: path.display().to_string(),
                reason: e.to_string(),
            })
        })?;
        match String::from_utf8(bytes) {
            Ok(text) => match text.find('\0') {
                // UTF-16 without a byte-order mark is valid UTF-8, full of NULs.
                Some(at) => {
                    // Shown as `␀`: a NUL written to a terminal is no help.
                    let shown = text.replace('\0', "\u{2400}");
                    let source = Self::from_text(path, shown, format);
                    let message = format!(
                        "the file holds a NUL byte at byte {at}: it is not UTF-8 text (UTF-16 without a byte-order mark?)"
                    );
                    Err(ReadFailure::Located(
                        PlanError::new(KeyPath::root(), PlanErrorKind::Encoding { message })
                            .at(&source, Some(Span { start: at, end: at }))
                            .into(),
                    ))
                }
                None => Ok(Self::from_text(path, text, format)),
            },
            Err(error) => {
                let bytes = error.into_bytes();
                let (message, at) = encoding_problem(&bytes);
                // Shown with `␀` for NUL (UTF-16 is full of them) and `�` for the rest;
                // `␀` is three bytes, so the offset moves by two for each one before it.
                let nuls = bytes[..at].iter().filter(|b| **b == 0).count();
                let at = at + 2 * nuls;
                let shown = String::from_utf8_lossy(&bytes).replace('\0', "\u{2400}");
                let source = Self::from_text(path, shown, format);
                let span = Some(Span { start: at, end: at });
                Err(ReadFailure::Located(
                    PlanError::new(KeyPath::root(), PlanErrorKind::Encoding { message })
                        .at(&source, span)
                        .into(),
                ))
            }
        }
    }

    /// An in-memory source, for tests and `--set` values.
    pub(crate) fn from_text(
        path: impl Into<PathBuf>,
        text: impl Into<String>,
        format: Format,
    ) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
            format,
        }
    }

    /// The directory relative paths in this file are resolved against.
    pub(crate) fn dir(&self) -> &Path {
        self.path.parent().unwrap_or_else(|| Path::new(""))
    }

    /// Parses the text into its value tree and the span index of its keys and values, in
    /// one parse. Syntax errors carry the parser's location.
    pub(crate) fn parse(&self) -> Result<(Value, SpanIndex), PlanErrors> {
        if is_blank(&self.text, self.format) {
            return Err(PlanError::new(KeyPath::root(), PlanErrorKind::EmptyPlan)
                .at(self, Some(Span { start: 0, end: 0 }))
                .into());
        }
        match self.format {
            Format::Yaml => match yaml::parse(&self.text) {
                Ok(parsed) => Ok((parsed.value, parsed.index)),
                Err(refusals) => Err(self.refused(refusals)),
            },
            Format::Toml => self.parse_toml(),
        }
    }

    fn parse_toml(&self) -> Result<(Value, SpanIndex), PlanErrors> {
        toml_tree::parse(&self.text).map_err(|refusal| {
            let (kind, span) = match refusal {
                TomlRefusal::Syntax(e) => (
                    PlanErrorKind::Syntax {
                        message: e.message().trim().to_owned(),
                    },
                    e.span().and_then(|r| Span::clamped(r, &self.text)),
                ),
                TomlRefusal::TooDeep(span) => (PlanErrorKind::TooDeep { limit: MAX_DEPTH }, span),
                TomlRefusal::TooManyValues => (
                    PlanErrorKind::TooManyValues { limit: MAX_VALUES },
                    Some(Span::point(0)),
                ),
            };
            PlanErrors::from(PlanError::new(KeyPath::root(), kind).at(self, span))
        })
    }

    /// What the YAML walk refused (syntax, depth, size, alias bombs, duplicate keys),
    /// located. A refusal of ours comes before a syntax error found later in the file.
    fn refused(&self, refusals: Vec<Refusal>) -> PlanErrors {
        let ours = refusals
            .iter()
            .any(|r| !matches!(r, Refusal::Syntax { .. }));
        let mut errors = PlanErrors::default();
        for refusal in refusals {
            let (kind, span) = match refusal {
                Refusal::Syntax { .. } if ours => continue,
                Refusal::Syntax { message, at } => {
                    let (message, at) = syntax::explain(&self.text, message, at);
                    (PlanErrorKind::Syntax { message }, Span::point(at))
                }
                Refusal::TooDeep { at } => (PlanErrorKind::TooDeep { limit: MAX_DEPTH }, at),
                Refusal::TooManyValues { at } => {
                    (PlanErrorKind::TooManyValues { limit: MAX_VALUES }, at)
                }
                Refusal::AliasBomb { at, values, limit } => {
                    (PlanErrorKind::AliasBomb { values, limit }, at)
                }
                Refusal::DuplicateKey { key, first, again } => {
                    let LineCol { line, col } = self.line_col(first.start);
                    let key = super::diagnostic::shorten(&key);
                    (PlanErrorKind::DuplicateKey { key, line, col }, again)
                }
            };
            errors.push(PlanError::new(KeyPath::root(), kind).at(self, Some(span)));
        }
        errors
    }

    /// Line and column of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> LineCol {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        LineCol { line, col }
    }
}

/// What is wrong with bytes that are not UTF-8, and the byte offset to point at.
fn encoding_problem(bytes: &[u8]) -> (String, usize) {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return (
            "the file is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8".into(),
            0,
        );
    }
    let at = match std::str::from_utf8(bytes) {
        Ok(_) => 0,
        Err(error) => error.valid_up_to(),
    };
    let byte = bytes.get(at).copied().unwrap_or_default();
    (
        format!("the file is not UTF-8 text: byte {at} (0x{byte:02x}) is not valid UTF-8"),
        at,
    )
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Whether the text holds nothing but blanks and comments.
fn is_blank(text: &str, format: Format) -> bool {
    text.trim_start_matches('\u{feff}').lines().all(|line| {
        let line = line.trim();
        let marker = format == Format::Yaml && (line == "---" || line == "...");
        line.is_empty() || line.starts_with('#') || marker
    })
}
