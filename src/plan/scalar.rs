//! A plain (unquoted) YAML scalar → a value, by the YAML 1.2 core schema: `null`, `true`,
//! `42`, `0x2a`, `1.5`, `.inf`; anything else is text. Quoted scalars are always text.

use serde_json::{Number, Value};

/// The value a plain scalar stands for.
pub(crate) fn resolve(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    // Leading zeros followed by digits are text in YAML 1.2 (`007`).
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if unsigned.len() > 1
        && unsigned.starts_with('0')
        && unsigned.bytes().all(|b| b.is_ascii_digit())
    {
        return Value::String(text.to_owned());
    }
    if let Some(number) = integer(text) {
        return Value::Number(number);
    }
    match float(text) {
        // Infinities and NaN have no JSON number: an empty value, as before.
        Some(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        None => Value::String(text.to_owned()),
    }
}

fn integer(text: &str) -> Option<Number> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.starts_with(['+', '-']) || digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = digits.strip_prefix("0o") {
        (8, octal)
    } else if let Some(binary) = digits.strip_prefix("0b") {
        (2, binary)
    } else {
        (10, digits)
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if !negative {
        return Some(Number::from(magnitude));
    }
    // -9223372036854775808 fits an i64 though its magnitude does not.
    let signed = 0i64.checked_sub_unsigned(magnitude)?;
    Some(Number::from(signed))
}

fn float(text: &str) -> Option<f64> {
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // Rust also reads `inf` and `NaN`, which YAML does not.
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        assert_eq!(resolve("~"), Value::Null);
        assert_eq!(resolve("True"), json!(true));
        assert_eq!(resolve("42"), json!(42));
        assert_eq!(resolve("-7"), json!(-7));
        assert_eq!(resolve("0x1f"), json!(31));
        assert_eq!(resolve("1.5"), json!(1.5));
        assert_eq!(resolve("1e3"), json!(1000.0));
        assert_eq!(resolve("007"), json!("007"));
        assert_eq!(resolve("inf"), json!("inf"));
        assert_eq!(resolve(".inf"), Value::Null);
        assert_eq!(resolve("2xx"), json!("2xx"));
        assert_eq!(resolve("1_000"), json!("1_000"));
        assert_eq!(
            resolve("18446744073709551616"),
            json!(18446744073709551616.0)
        );
    }
}
