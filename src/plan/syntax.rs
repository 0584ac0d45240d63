//! A YAML syntax error in plain words, from the text around it: the parser's message is
//! kept as it is unless the text shows a likelier cause (a tab, a long key, a line that
//! lines up with no key above, an unclosed `{`). Never read from the message's words.

/// YAML's limit on an implicit key's length (YAML 1.2, 7.4.2).
const MAX_YAML_KEY_CHARS: usize = 1024;

/// The message to show for a syntax error the parser reported at byte `at`, and where.
pub(crate) fn explain(text: &str, message: String, at: usize) -> (String, usize) {
    let at = floor_char_boundary(text, at.min(text.len()));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..line_end(text, line_start)];
    let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    if let Some(tab) = indent.find('\t') {
        let message = "tabs are not allowed in indentation; indent with spaces";
        return (message.into(), line_start + tab);
    }
    if text[at..].starts_with('\t') {
        return ("a tab cannot start a value here; use spaces".into(), at);
    }
    let content = line.trim_start();
    let key = content.split(": ").next().unwrap_or_default();
    let key_len = key.trim_end_matches(':').chars().count();
    if key_len > MAX_YAML_KEY_CHARS {
        let message = format!(
            "a key of {key_len} characters: YAML takes keys of at most {MAX_YAML_KEY_CHARS} characters; shorten it"
        );
        return (message, line_start + indent.len());
    }
    if let Some((open, opened_at)) = unclosed_flow(&text[..line_start]) {
        let (line, col) = line_col(text, opened_at);
        let close = if open == '{' { '}' } else { ']' };
        let message = format!(
            "the `{open}` at line {line}, column {col} is never closed: add its `{close}` before this line"
        );
        return (message, at);
    }
    if is_key_line(content) {
        let widths = indents_above(text, line_start);
        if !widths.contains(&indent.len()) {
            return (misindented(indent.len(), &widths), line_start);
        }
    }
    if text[at..].starts_with(':') {
        let message = "a `key:` cannot start here: if this line is a key of the map above, indent it like that map's other keys; if the `:` belongs to a value, quote the value";
        return (message.into(), at);
    }
    (message, at)
}

fn misindented(width: usize, widths: &[usize]) -> String {
    let words: Vec<String> = widths.iter().map(usize::to_string).collect();
    let above = match words.split_last() {
        None => String::new(),
        Some((last, [])) => format!(" (keys above are indented by {last})"),
        Some((last, rest)) => format!(
            " (keys above are indented by {} or {last})",
            rest.join(", ")
        ),
    };
    format!(
        "this line is indented by {width} spaces, which lines up with no key above it; indent it like the other keys of its map{above}"
    )
}

/// A `key: value` or `key:` line (not a list item, not a comment).
fn is_key_line(content: &str) -> bool {
    !content.starts_with(['-', '#', '{', '[', '"', '\''])
        && (content.contains(": ") || content.ends_with(':'))
}

/// The last `{` or `[` before `text`'s end that no bracket closes, outside quotes and
/// comments: a flow map left open swallows the lines after it.
fn unclosed_flow(text: &str) -> Option<(char, usize)> {
    open_flows(text).pop()
}

/// The `{` and `[` still open at `text`'s end, outermost first, with their offsets.
pub(crate) fn open_flows(text: &str) -> Vec<(char, usize)> {
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut quote = None;
    let mut comment = false;
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (_, '\n') if comment => comment = false,
            _ if comment => {}
            (Some('"'), '\\') if previous == '\\' => {
                previous = ' ';
                continue;
            }
            (Some(q), c) if c == q && !(q == '"' && previous == '\\') => quote = None,
            (Some(_), _) => {}
            (None, '#') if previous.is_whitespace() => comment = true,
            (None, '"' | '\'')
                if previous.is_whitespace() || matches!(previous, '[' | '{' | ',') =>
            {
                quote = Some(c);
            }
            (None, '{' | '[') => open.push((c, i)),
            (None, '}' | ']') => {
                open.pop();
            }
            _ => {}
        }
        previous = c;
    }
    open
}

fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn line_end(text: &str, from: usize) -> usize {
    text[from..].find('\n').map_or(text.len(), |i| from + i)
}

/// The distinct indentations of the key lines before `line_start`.
fn indents_above(text: &str, line_start: usize) -> Vec<usize> {
    let mut widths: Vec<usize> = text[..line_start]
        .lines()
        .filter(|line| {
            let content = line.trim_start();
            !content.is_empty() && !content.starts_with('#') && content.contains(':')
        })
        .map(|line| line.len() - line.trim_start().len())
        .collect();
    widths.sort_unstable();
    widths.dedup();
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unclosed_flow_map_is_named_with_its_position() {
        let text = "a:\n  b: { c: 1\nd: 2\n";
        let at = text.find("d:").unwrap();
        let (message, _) = explain(text, "invalid indentation".into(), at);
        assert_eq!(
            message,
            "the `{` at line 2, column 6 is never closed: add its `}` before this line"
        );
        let closed = "a: { b: '{', c: \"[\" } # {\nd: 2\n";
        assert_eq!(unclosed_flow(closed), None);
    }

    #[test]
    fn a_key_line_that_lines_up_with_nothing_is_named() {
        let text = "a:\n  b: 1\n c: 2\n";
        let (message, at) = explain(text, "x".into(), text.find(" c").unwrap() + 1);
        assert!(
            message.starts_with("this line is indented by 1 spaces"),
            "{message}"
        );
        assert!(
            message.ends_with("(keys above are indented by 0 or 2)"),
            "{message}"
        );
        assert_eq!(at, text.find(" c").unwrap());
    }
}
