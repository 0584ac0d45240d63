//! Credentials never reach the reports: the resolved plan written to `summary.json`
//! keeps the shape of every `headers` map but not the values of the headers that carry
//! credentials (a plan may write `Authorization: Bearer abc…` literally, or a `--set`
//! may). Templates such as `Bearer {{ env.TOKEN }}` are hidden too: one rule is simpler
//! to trust than a guess at which values are secret.

use serde_json::Value;

/// Header names whose values are credentials (compared case-insensitively).
const CREDENTIAL_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-auth-token",
];

/// What a hidden value is replaced with.
pub(crate) const REDACTED: &str = "[redacted]";

/// Whether a header of this name carries credentials.
pub(crate) fn is_credential_header(name: &str) -> bool {
    CREDENTIAL_HEADERS.contains(&name.to_ascii_lowercase().as_str())
}

/// Replaces the values of credential headers in every `headers` map under `value`.
pub(super) fn redact_credentials(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "headers" {
                    if let Value::Object(headers) = child {
                        for (name, header) in headers.iter_mut() {
                            if is_credential_header(name) {
                                *header = Value::from(REDACTED);
                            }
                        }
                    }
                }
                redact_credentials(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_credentials),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_headers_are_hidden_at_every_level_and_nothing_else() {
        let mut plan = json!({
            "headers": { "Authorization": "Bearer abc", "Accept": "application/json" },
            "classes": { "A": {
                "headers": { "cookie": "session=1" },
                "tasks": { "t": { "steps": [ { "headers": { "X-Api-Key": "k" }, "path": "/" } ] } }
            } },
            "vars": { "authorization": "not a header" }
        });
        redact_credentials(&mut plan);
        assert_eq!(
            plan,
            json!({
                "headers": { "Authorization": REDACTED, "Accept": "application/json" },
                "classes": { "A": {
                    "headers": { "cookie": REDACTED },
                    "tasks": { "t": { "steps": [ { "headers": { "X-Api-Key": REDACTED }, "path": "/" } ] } }
                } },
                "vars": { "authorization": "not a header" }
            })
        );
    }
}
