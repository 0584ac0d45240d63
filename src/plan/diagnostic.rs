//! Plan diagnostics: `PlanError` (what is wrong, where, and how to fix it) and
//! `PlanErrors`, every mistake found in one pass. Rendered by miette, the one renderer
//! for every plan diagnostic, with the `file:line:col` people click on. What each
//! mistake says is in `kind`; which part of the file it quotes is in `snippet`.

mod kind;
mod snippet;

use std::fmt;
use std::path::PathBuf;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};

use super::key_path::KeyPath;
use super::source::{LineCol, Source};
use super::span::Span;

pub use kind::PlanErrorKind;
use snippet::Snippet;
pub(crate) use snippet::shorten;

/// One mistake in a plan, with where it is and, when we can guess, how to fix it.
#[derive(Debug, Clone)]
pub struct PlanError {
    /// Where in the (merged) plan the mistake is.
    pub path: KeyPath,
    pub kind: PlanErrorKind,
    /// The file it is in, when known.
    pub(crate) file: Option<PathBuf>,
    /// Line and column in `file`, when known.
    pub position: Option<LineCol>,
    /// A suggestion: "did you mean `weight`?".
    pub hint: Option<String>,
    /// The flag the value came from (`--set load.users=x`, `--users`), if it did not come
    /// from a file.
    pub(crate) flag: Option<String>,
    source: Option<Snippet>,
    span: Option<Span>,
    /// Secrets' values never to show: masked in the quoted source, scrubbed from the text.
    hidden: Vec<String>,
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
    pub(crate) fn hiding(mut self, values: &[String]) -> Self {
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
    pub(crate) fn at(mut self, source: &Source, span: Option<Span>) -> Self {
        self.file = Some(source.path.clone());
        self.position = span.map(|s| source.line_col(s.start));
        let (snippet, span) = Snippet::of(source, span);
        self.span = span;
        self.source = Some(snippet);
        self
    }

    /// In `file`, at no particular place in it (a file that could not be read).
    pub(crate) fn in_file(mut self, file: &std::path::Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    /// Hides `secret` wherever the snippet would quote it (with as many `*`, so that the
    /// span still points at the same text).
    pub(crate) fn masking(mut self, secret: &str) -> Self {
        if !secret.is_empty() {
            self.mask_snippet(&[secret.to_owned()]);
        }
        self
    }

    /// Replaces each of `values` in the quoted snippet with as many `*`, byte for byte so
    /// that the spans still point where they did.
    fn mask_snippet(&mut self, values: &[String]) {
        if let Some(snippet) = &mut self.source {
            snippet.mask(values);
        }
    }

    /// The same place, another mistake.
    pub(crate) fn with_kind(mut self, kind: PlanErrorKind) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    /// The mistake came from a command-line flag, not the file.
    pub(crate) fn given_by_flag(mut self, flag: &str) -> Self {
        self.flag = Some(flag.to_owned());
        self
    }

    /// `plans/peak.yaml:12:7`, `plans/peak.yaml`, `--set load.users=x`, `--users` or the
    /// key path.
    pub(crate) fn location(&self) -> String {
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

/// Every mistake found in a plan, in file order.
#[derive(Debug, Clone, Default)]
pub struct PlanErrors(pub Vec<PlanError>);

impl PlanErrors {
    pub(crate) fn push(&mut self, error: PlanError) {
        self.0.push(error);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &PlanError> {
        self.0.iter()
    }

    /// Every error, never showing any of `values` (see `PlanError::hiding`).
    pub(crate) fn hiding(self, values: &[String]) -> Self {
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
    pub(crate) fn into_result<T>(mut self, value: T) -> Result<T, PlanErrors> {
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
