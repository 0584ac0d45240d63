//! Plan diagnostics: `PlanError` (what is wrong, where, and how to fix it) and
//! `PlanErrors`, every mistake found in one pass. Rendered by miette, the one renderer
//! for every plan diagnostic, with the `file:line:col` people click on.

use std::fmt;
use std::path::PathBuf;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use super::key_path::KeyPath;
use super::source::{LineCol, Source};
use super::span::Span;

/// What is wrong. Messages are lowercase, name things in backticks, and say what was
/// found and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanErrorKind {
    #[error("cannot read plan file `{file}`: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("`{file}` is neither YAML nor TOML: expected a `.yaml`, `.yml` or `.toml` file")]
    UnknownFormat { file: String },
    #[error("syntax error: {message}")]
    Syntax { message: String },
    #[error("{message}; save the file as UTF-8")]
    Encoding { message: String },
    #[error(
        "the plan file is empty: expected a map of keys such as `host`, `classes`, `load`, `slos`"
    )]
    EmptyPlan,
    #[error(
        "nesting deeper than {limit} levels: plans need about ten; flatten this value (see docs/robustness.md)"
    )]
    TooDeep { limit: usize },
    #[error(
        "the plan file holds more than {limit} values (keys, items and scalars): plans hold a few thousand; move bulk data to a `data` file (see docs/robustness.md)"
    )]
    TooManyValues { limit: usize },
    #[error(
        "aliases expand to {values} values here, over this file's limit of {limit}: an alias that repeats aliases multiplies; write the values out instead (see docs/robustness.md)"
    )]
    AliasBomb { values: usize, limit: usize },
    #[error(
        "key `{key}` is written twice in this map (first at line {line}, column {col}); YAML would silently keep only the last: remove or rename one"
    )]
    DuplicateKey {
        key: String,
        line: usize,
        col: usize,
    },
    #[error("unknown key `{key}`: expected one of {}", backticked(expected))]
    UnknownKey { key: String, expected: Vec<String> },
    #[error("missing key `{key}`")]
    MissingKey { key: String },
    #[error("wrong type: {message}")]
    WrongType { message: String },
    #[error("bad duration: {message}")]
    BadDuration { message: String },
    #[error("bad rate: {message}")]
    BadRate { message: String },
    #[error("bad size: {message}")]
    BadSize { message: String },
    #[error("bad status list: {message}")]
    BadStatus { message: String },
    #[error(
        "bad think time `{found}`: expected `between 1s 3s`, `constant 2s`, `pacing 5s` or `none`"
    )]
    BadThinkTime { found: String },
    #[error("bad HTTP method `{found}`: expected GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS")]
    BadMethod { found: String },
    #[error("bad host `{found}`: {reason}")]
    BadHost { found: String, reason: String },
    #[error(
        "no host: set `host` in the plan, pass `--host URL`, set `PLANRUN_HOST`, or use `--sample-api`"
    )]
    NoHost,
    #[error("bad header: {message}")]
    BadHeader { message: String },
    #[error("weight must be a positive whole number, found `{found}`")]
    BadWeight { found: String },
    #[error("the plan defines no user classes: expected `classes` with at least one class")]
    NoClasses,
    #[error("user class `{class}` has no tasks: expected `tasks` with at least one task")]
    NoTasks { class: String },
    #[error("{message}")]
    BadStep { message: String },
    #[error("template error: {message}")]
    Template { message: String },
    #[error("undefined variable `{name}` in template")]
    UndefinedVariable { name: String },
    #[error("unknown function `{name}` in template")]
    UnknownFunction { name: String },
    #[error("environment variable `{name}` is not set")]
    MissingEnv { name: String },
    #[error("cannot read payload file `{file}`: {reason}")]
    MissingPayload { file: String, reason: String },
    #[error("unknown outcome `{name}`: expected `request.outcome` of a request's `outcomes`")]
    UnknownOutcome { name: String },
    #[error("bad data file `{file}`: {reason}")]
    DataFile { file: String, reason: String },
    #[error("data `{data}` has no column `{column}`")]
    UnknownColumn { data: String, column: String },
    #[error("body is not valid JSON once rendered: {message}")]
    PayloadNotJson { message: String },
    #[error("`extends` forms a cycle: {}", chain.join(" → "))]
    ExtendsCycle { chain: Vec<String> },
    #[error("bad `--set {flag}`: {message}")]
    BadSet { flag: String, message: String },
    #[error("SLO refers to request `{name}`, which no task defines")]
    UnknownRequest { name: String },
    #[error("no task sends a request named `{name}`")]
    NoSuchRequest { name: String },
    #[error("no task is named `{name}`, nor is a request that a task sends alone")]
    UnknownTask { name: String },
    #[error("no stage is named `{name}`")]
    UnknownStage { name: String },
    #[error("bad SLO `{found}`: {message}")]
    BadSlo { found: String, message: String },
    #[error("bad load: {message}")]
    BadLoad { message: String },
}

fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One mistake in a plan, with where it is and, when we can guess, how to fix it.
#[derive(Debug, Clone)]
pub struct PlanError {
    /// Where in the (merged) plan the mistake is.
    pub path: KeyPath,
    pub kind: PlanErrorKind,
    /// The file it is in, when known.
    pub file: Option<PathBuf>,
    /// Line and column in `file`, when known.
    pub position: Option<LineCol>,
    /// A suggestion: "did you mean `weight`?".
    pub hint: Option<String>,
    /// The flag the value came from (`--set load.users=x`, `--users`), if it did not come
    /// from a file.
    pub flag: Option<String>,
    source: Option<Snippet>,
    span: Option<Span>,
    /// Secrets' values never to show: masked in the quoted source, scrubbed from the text.
    hidden: Vec<String>,
}

/// The text a snippet shows (see `excerpt`), and the line whose start was cut, with how
/// many characters were cut, so that the position miette prints stays the file's.
#[derive(Debug, Clone)]
struct Snippet {
    source: NamedSource<String>,
    cut: Option<(usize, usize)>,
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

impl PlanError {
    pub fn new(path: KeyPath, kind: PlanErrorKind) -> Self {
        Self {
            path,
            kind,
            file: None,
            position: None,
            hint: None,
            flag: None,
            source: None,
            span: None,
            hidden: Vec::new(),
        }
    }

    /// The same error, never showing any of `values` (the values of variables the plan
    /// marks secret): the quoted file has each masked with `*`, byte for byte so that the
    /// spans still point where they did, and the rendered text has it `[redacted]`.
    pub fn hiding(mut self, values: &[String]) -> Self {
        let values: Vec<String> = values.iter().filter(|v| !v.is_empty()).cloned().collect();
        if values.is_empty() {
            return self;
        }
        self.mask_snippet(&values);
        self.hidden = values;
        self
    }

    /// `text` with the hidden values `[redacted]`.
    fn scrubbed(&self, text: String) -> String {
        self.hidden.iter().fold(text, |text, value| {
            text.replace(value.as_str(), "[redacted]")
        })
    }

    /// Places the error in `source` at `span` (or at the start of the file).
    pub fn at(mut self, source: &Source, span: Option<Span>) -> Self {
        self.file = Some(source.path.clone());
        self.position = span.map(|s| source.line_col(s.start));
        let (text, span, cut) = excerpt(&source.text, span);
        self.span = span;
        self.source = Some(Snippet {
            source: NamedSource::new(source.path.display().to_string(), text).with_language(
                match source.format {
                    super::source::Format::Yaml => "yaml",
                    super::source::Format::Toml => "toml",
                },
            ),
            cut,
        });
        self
    }

    /// In `file`, at no particular place in it (a file that could not be read).
    pub fn in_file(mut self, file: &std::path::Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    /// Hides `secret` wherever the snippet would quote it (with as many `*`, so that the
    /// span still points at the same text).
    pub fn masking(mut self, secret: &str) -> Self {
        if !secret.is_empty() {
            self.mask_snippet(&[secret.to_owned()]);
        }
        self
    }

    /// Replaces each of `values` in the quoted snippet with as many `*`, byte for byte so
    /// that the spans still point where they did.
    fn mask_snippet(&mut self, values: &[String]) {
        let Some(snippet) = &mut self.source else {
            return;
        };
        let text = snippet.source.inner();
        if !values.iter().any(|v| text.contains(v.as_str())) {
            return;
        }
        let masked = values.iter().fold(text.clone(), |text, value| {
            text.replace(value.as_str(), &"*".repeat(value.len()))
        });
        let name = snippet.source.name().to_owned();
        let language = if name.ends_with(".toml") {
            "toml"
        } else {
            "yaml"
        };
        snippet.source = NamedSource::new(name, masked).with_language(language);
    }

    /// The same place, another mistake.
    pub fn with_kind(mut self, kind: PlanErrorKind) -> Self {
        self.kind = kind;
        self
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    pub fn from_flag(mut self, flag: &str) -> Self {
        self.flag = Some(flag.to_owned());
        self
    }

    /// `plans/peak.yaml:12:7`, `plans/peak.yaml`, `--set load.users=x`, `--users` or the
    /// key path.
    pub fn location(&self) -> String {
        match (&self.file, self.position, &self.flag) {
            (_, _, Some(flag)) => flag.clone(),
            (Some(file), Some(pos), None) => format!("{}:{}:{}", file.display(), pos.line, pos.col),
            (Some(file), None, None) => file.display().to_string(),
            (None, _, None) if self.path.is_root() => "plan".to_owned(),
            (None, _, None) => self.path.to_string(),
        }
    }

    /// The error as people read it: miette's snippet when we have the source, plain
    /// `location: message` lines otherwise. `color` only when writing to a terminal.
    pub fn render(&self, color: bool) -> String {
        self.scrubbed(self.render_unscrubbed(color))
    }

    fn render_unscrubbed(&self, color: bool) -> String {
        if self.source.is_none() || self.span.is_none() {
            let mut out = format!("error: {}: {}", self.location(), self.kind);
            if !self.path.is_root() {
                out.push_str(&format!("\n  at `{}`", self.path));
            }
            if let Some(hint) = &self.hint {
                out.push_str(&format!("\n  help: {hint}"));
            }
            out.push('\n');
            return out;
        }
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let mut out = String::new();
        let handler = GraphicalReportHandler::new_themed(theme).with_links(false);
        if handler.render_report(&mut out, self).is_err() {
            return format!("error: {}: {}\n", self.location(), self.kind);
        }
        out
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{}: {}", self.location(), self.kind);
        f.write_str(&self.scrubbed(text))
    }
}

impl std::error::Error for PlanError {}

impl Diagnostic for PlanError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        let label = if self.path.is_root() {
            "here".to_owned()
        } else {
            format!("at `{}`", shorten(&self.path.to_string()))
        };
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(label),
            span.start,
            span.end.saturating_sub(span.start),
        ))))
    }
}

/// Keys and values quoted in messages and labels are cut past this many characters.
pub const MAX_QUOTED_CHARS: usize = 80;

/// Snippet lines are cut to this many characters around the span: the renderer cannot
/// draw a line of 65,536 characters or more, and nobody reads one.
pub const MAX_SNIPPET_LINE_CHARS: usize = 160;

/// `text`, cut to `MAX_QUOTED_CHARS` characters with a note of how long it was.
pub fn shorten(text: &str) -> String {
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

/// Every mistake found in a plan, in file order.
#[derive(Debug, Clone, Default)]
pub struct PlanErrors(pub Vec<PlanError>);

impl PlanErrors {
    pub fn push(&mut self, error: PlanError) {
        self.0.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &PlanError> {
        self.0.iter()
    }

    /// Every error, never showing any of `values` (see `PlanError::hiding`).
    pub fn hiding(self, values: &[String]) -> Self {
        Self(self.0.into_iter().map(|e| e.hiding(values)).collect())
    }

    /// Every error, rendered, then a count.
    pub fn render(&self, color: bool) -> String {
        let mut out: String = self
            .0
            .iter()
            .map(|e| e.render(color))
            .collect::<Vec<_>>()
            .join("\n");
        if self.0.len() > 1 {
            out.push_str(&format!(
                "\n{} mistakes in the plan; nothing was sent\n",
                self.0.len()
            ));
        } else {
            out.push_str("\nthe plan is invalid; nothing was sent\n");
        }
        out
    }

    /// `Ok(value)` when nothing was pushed.
    pub fn into_result<T>(mut self, value: T) -> Result<T, PlanErrors> {
        if self.0.is_empty() {
            return Ok(value);
        }
        self.0.sort_by(|a, b| {
            (a.file.clone(), a.position.map(|p| (p.line, p.col)))
                .cmp(&(b.file.clone(), b.position.map(|p| (p.line, p.col))))
        });
        // One mistake reached twice (a class header checked for each of its tasks) is
        // still one mistake to fix.
        let mut seen = std::collections::HashSet::new();
        self.0.retain(|e| {
            seen.insert((
                e.file.clone(),
                e.position.map(|p| (p.line, p.col)),
                e.path.to_string(),
                e.kind.to_string(),
            ))
        });
        Err(self)
    }
}

impl From<PlanError> for PlanErrors {
    fn from(error: PlanError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanErrors {}

/// "did you mean `weight`?" for a near miss among `candidates`.
pub fn did_you_mean<'a>(
    found: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(found, c), c))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_mistake_found_twice_is_reported_once() {
        let error = || {
            PlanError::new(
                KeyPath::root().key("host"),
                PlanErrorKind::MissingEnv { name: "X".into() },
            )
        };
        let mut errors = PlanErrors::default();
        errors.push(error());
        errors.push(error());
        errors.push(PlanError::new(
            KeyPath::root().key("host"),
            PlanErrorKind::NoHost,
        ));
        let errors = errors.into_result(()).unwrap_err();
        assert_eq!(errors.0.len(), 2);
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(
            did_you_mean("wieght", ["weight", "think-time", "tasks"]),
            Some("did you mean `weight`?".into())
        );
        assert_eq!(did_you_mean("zzz", ["weight", "tasks"]), None);
    }
}
