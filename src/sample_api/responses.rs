//! JSON response builders and the fixed error bodies every endpoint shares.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;

/// Body of an injected failure.
pub(crate) const INJECTED: &str = r#"{"error":"injected"}"#;
/// Body of a 404 for an unknown route or accommodation.
pub(crate) const NOT_FOUND: &str = r#"{"error":"not_found"}"#;
/// Body of a 422 for dates that are missing, malformed or out of order.
pub(crate) const INVALID_DATES: &str = r#"{"error":"invalid_dates"}"#;
/// Body of a 422 for a request body that is not the expected JSON.
pub(crate) const INVALID_BODY: &str = r#"{"error":"invalid_body"}"#;
/// Body of a 409 for a stay that overlaps a stored one.
pub(crate) const DATE_OVERLAP: &str = r#"{"error":"date_overlap"}"#;
/// Body of a refused pre-reservation while another holds the calendar (body style).
pub(crate) const LOCKED: &str = r#"{"error":"processing_or_unavailable"}"#;
/// Body of a 403 for a webhook whose signature does not verify.
pub(crate) const INVALID_SIGNATURE: &str = r#"{"error":"invalid_signature"}"#;
/// Body of a 413 for a request body over the size limit.
pub(crate) const BODY_TOO_LARGE: &str = r#"{"error":"body_too_large"}"#;

/// A response with `status` and an already-encoded JSON `body`.
pub(super) fn json(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A response with `status` and `value` encoded as JSON.
pub(crate) fn json_value(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => json(status, bytes),
        // Only reachable with a non-serialisable value, which the handlers never build.
        Err(_) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":"serialization"}"#,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_sets_status_and_content_type() {
        let response = json_value(StatusCode::CREATED, &serde_json::json!({"a": 1}));
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn error_bodies_are_valid_json_with_an_error_field() {
        for body in [
            INJECTED,
            NOT_FOUND,
            INVALID_DATES,
            INVALID_BODY,
            DATE_OVERLAP,
            BODY_TOO_LARGE,
        ] {
            let value: serde_json::Value = serde_json::from_str(body).unwrap();
            assert!(value["error"].is_string(), "{body}");
        }
    }
}
