//! The part of a plan file a diagnostic quotes: the lines around the mistake, cut so
//! that a huge file or line stays cheap to render, with positions kept the file's.

use miette::{NamedSource, SourceCode};

use crate::plan::source::{Format, Source};
use crate::plan::span::Span;

/// The text a snippet shows (see `excerpt`), and the line whose start was cut, with how
/// many characters were cut, so that the position miette prints stays the file's.
#[derive(Debug, Clone)]
pub(super) struct Snippet {
    source: NamedSource<String>,
    cut: Option<(usize, usize)>,
}

impl Snippet {
    /// The snippet of `source` around `span`, and `span` within it.
    pub(super) fn of(source: &Source, span: Option<Span>) -> (Self, Option<Span>) {
        let (text, span, cut) = excerpt(&source.text, span);
        let snippet = Self {
            source: NamedSource::new(source.path.display().to_string(), text).with_language(
                match source.format {
                    Format::Yaml => "yaml",
                    Format::Toml => "toml",
                },
            ),
            cut,
        };
        (snippet, span)
    }

    /// Replaces each of `values` in the quoted text with as many `*`, byte for byte so
    /// that the spans still point where they did.
    pub(super) fn mask(&mut self, values: &[String]) {
        let text = self.source.inner();
        if !values.iter().any(|v| text.contains(v.as_str())) {
            return;
        }
        let masked = values.iter().fold(text.clone(), |text, value| {
            text.replace(value.as_str(), &"*".repeat(value.len()))
        });
        let name = self.source.name().to_owned();
        let language = if name.ends_with(".toml") {
            "toml"
        } else {
            "yaml"
        };
        self.source = NamedSource::new(name, masked).with_language(language);
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self.source.read_span(span, before, after)?;
        match self.cut {
            Some((line, chars)) if before == 0 && after == 0 && contents.line() == line => {
                let mut shifted = miette::MietteSpanContents::new_named(
                    self.source.name().to_owned(),
                    contents.data(),
                    *contents.span(),
                    contents.line(),
                    contents.column() + chars,
                    contents.line_count(),
                );
                if let Some(language) = contents.language() {
                    shifted = shifted.with_language(language);
                }
                Ok(Box::new(shifted))
            }
            _ => Ok(contents),
        }
    }
}

/// Keys and values quoted in messages and labels are cut past this many characters.
pub(super) const MAX_QUOTED_CHARS: usize = 80;

/// Snippet lines are cut to this many characters around the span: the renderer cannot
/// draw a line of 65,536 characters or more, and nobody reads one.
pub(super) const MAX_SNIPPET_LINE_CHARS: usize = 160;

/// `text`, cut to `MAX_QUOTED_CHARS` characters with a note of how long it was.
pub(crate) fn shorten(text: &str) -> String {
    let count = text.chars().count();
    if count <= MAX_QUOTED_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    format!("{head}… ({count} characters)")
}

/// The part of `text` a snippet shows, and `span` within it: the lines around the span,
/// each cut to `MAX_SNIPPET_LINE_CHARS` characters around the span's columns, after as
/// many empty lines as there were lines before, so that line numbers stay right and a
/// diagnostic on a 4 MiB file does not copy the whole file.
fn excerpt(text: &str, span: Option<Span>) -> (String, Option<Span>, Option<(usize, usize)>) {
    const CONTEXT_LINES: usize = 2;
    let Some(span) = span else {
        return (String::new(), None, None);
    };
    let mut cut_line = None;
    let start = floor_boundary(text, span.start.min(text.len()));
    let end = floor_boundary(text, span.end.clamp(start, text.len()));
    let line_of = |at: usize| text[..at].matches('\n').count();
    let (first_line, span_line) = {
        let line = line_of(start);
        (line.saturating_sub(CONTEXT_LINES), line)
    };
    let mut out = "\n".repeat(first_line);
    let mut new_span = None;
    let mut offset = text
        .match_indices('\n')
        .nth(first_line.wrapping_sub(1))
        .map_or(0, |(i, _)| i + 1);
    if first_line == 0 {
        offset = 0;
    }
    for (index, line) in text[offset..]
        .split('\n')
        .enumerate()
        .take(span_line - first_line + CONTEXT_LINES + 1)
    {
        if index > 0 {
            out.push('\n');
        }
        let line_start = offset;
        offset += line.len() + 1;
        // The window of this line shown: around the span on its own line, the start
        // of the line elsewhere.
        let (from, to) = if line_start <= start && start <= line_start + line.len() {
            let from = floor_boundary(
                line,
                (start - line_start).saturating_sub(MAX_SNIPPET_LINE_CHARS / 2),
            );
            (from, cut(line, from, MAX_SNIPPET_LINE_CHARS))
        } else {
            (0, cut(line, 0, MAX_SNIPPET_LINE_CHARS))
        };
        let base = out.len();
        out.push_str(&line[from..to]);
        if line_start <= start && start <= line_start + line.len() {
            if from > 0 {
                cut_line = Some((span_line, line[..from].chars().count()));
            }
            let s = base + (start - line_start - from);
            let e = base + (end.min(line_start + to) - line_start).saturating_sub(from);
            new_span = Some(Span {
                start: s,
                end: e.max(s),
            });
        }
    }
    (out, new_span, cut_line)
}

/// The byte end of at most `chars` characters of `line` from byte `from`.
fn cut(line: &str, from: usize, chars: usize) -> usize {
    line[from..]
        .char_indices()
        .nth(chars)
        .map_or(line.len(), |(i, _)| from + i)
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
