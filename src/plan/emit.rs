//! A value tree → YAML text, block style, for reports that show the plan as run.
//!
//! Text that would read back as something else (`true`, `42`, `a: b`, `- x`) is written
//! as a double-quoted JSON string, which YAML reads as the same text.

use serde_json::Value;

use super::scalar::resolve;

/// The plan as YAML that [`super::parse`] reads back into the same tree.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => block(&mut out, value, 0),
        Value::Array(items) if !items.is_empty() => block(&mut out, value, 0),
        _ => {
            out.push_str(&inline(value));
            out.push('\n');
        }
    }
    out
}

/// A non-empty map or list, each entry on its own line at `indent`.
fn block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                out.push_str(&pad);
                out.push_str(&text(key));
                out.push(':');
                child_after(out, child, indent + 2);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    // `- key: value` with the map's other keys lined up under the first.
                    Value::Object(map) if !map.is_empty() => {
                        out.push(' ');
                        let mut nested = String::new();
                        block(&mut nested, item, indent + 2);
                        out.push_str(nested.trim_start_matches(' '));
                    }
                    _ => child_after(out, item, indent + 2),
                }
            }
        }
        _ => {
            out.push_str(&pad);
            out.push_str(&inline(value));
            out.push('\n');
        }
    }
}

/// What follows `key:` or `-`: a scalar on the same line, a collection on the next ones.
fn child_after(out: &mut String, child: &Value, indent: usize) {
    let nested = match child {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    };
    if nested {
        out.push('\n');
        block(out, child, indent);
    } else {
        out.push(' ');
        out.push_str(&inline(child));
        out.push('\n');
    }
}

/// A scalar or an empty collection on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => text(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Text as written when YAML reads it back unchanged, else double-quoted.
fn text(s: &str) -> String {
    let plain = !s.is_empty()
        && matches!(resolve(s), Value::String(_))
        && s.trim() == s
        && !s.starts_with([
            '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`',
        ])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.chars().any(|c| c.is_control() || c == '\u{feff}');
    if plain {
        s.to_owned()
    } else {
        Value::String(s.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emitted_yaml_reads_back_as_the_same_tree() {
        let tree = json!({
            "host": "http://127.0.0.1:8000",
            "classes": {"A": {"tasks": {"t": {"path": "/a", "expect-status": [200, 201]}}}},
            "load": {"users": 5, "run-time": "1s", "ratio": 0.5, "on": true, "none": null},
            "steps": [{"name": "a", "body": "x: y\nz"}, [], {}, "-", "true", "007", " pad"],
            "odd keys": {"a: b": 1, "": 2, "#c": 3},
        });
        let yaml = to_yaml(&tree);
        let parsed = crate::plan::yaml::parse(&yaml).expect("reads back");
        assert_eq!(parsed.value, tree, "{yaml}");
    }
}
