//! `printable`: text from a plan or a response (request names, failure reasons) made safe
//! to show in a terminal or a Markdown viewer. Control characters (ESC sequences that
//! retitle or recolour a terminal, NUL, BEL, CR/LF that forge a line) and invisible
//! formatting characters (bidi overrides such as U+202E that make `exe.gpj` read as
//! `jpg.exe`, zero-width characters) are written as visible escapes: `\e`, `\r`, `\n`,
//! `\0`, `\x08`, `\u{202e}`. Everything else, including every other non-ASCII character,
//! is left as written.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every character a reader's terminal or viewer would act on, rather than
/// show, written as an escape.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `printable` for a whole block of lines: its own line ends (`\n`) are kept.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let acts = |c: char| needs_escape(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !acts(c) {
            out.push(c);
            continue;
        }
        match c {
            '\u{1b}' => out.push_str(r"\e"),
            '\u{7}' => out.push_str(r"\a"),
            '\0' => out.push_str(r"\0"),
            '\r' => out.push_str(r"\r"),
            '\n' => out.push_str(r"\n"),
            '\t' => out.push_str(r"\t"),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, r"\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, r"\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// C0 and C1 controls and DEL, and the invisible characters that reorder or hide text.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'              // Arabic letter mark
            | '\u{200b}'..='\u{200f}' // zero-width characters, LRM, RLM
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{feff}'              // zero-width no-break space
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_left_alone() {
        for text in ["GET /search?q=1", "réservation 予約 ✓", "a\\b", ""] {
            assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn what_a_terminal_acts_on_is_shown() {
        assert_eq!(
            printable(
                "a\u{1b}]0;t\u{7}\u{1b}[31m\0\r\n\t\u{8}\u{7f}\u{9b}\u{202e}\u{2066}\u{200b}z"
            ),
            r"a\e]0;t\a\e[31m\0\r\n\t\x08\x7f\x9b\u{202e}\u{2066}\u{200b}z"
        );
        assert_eq!(printable_lines("a\u{1b}\nb\r\n"), "a\\e\nb\\r\n");
    }
}
