//! Log-in and bearer tokens: `POST /api/v1/auth/login` issues a token; confirming or
//! cancelling a pre-reservation needs it as `Authorization: Bearer <token>`.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::chaos::mix;
use super::endpoint::Endpoint;
use super::responses::{self, INVALID_BODY};
use super::routes::{AppState, Shared, counted, read_body};

/// Body of a 401 for a missing or unknown token.
pub(crate) const UNAUTHORIZED: &str = r#"{"error":"unauthorized"}"#;

/// The tokens issued so far.
#[derive(Default)]
pub(crate) struct Tokens {
    issued: Mutex<HashSet<String>>,
    next: AtomicU64,
}

impl Tokens {
    fn issue(&self, seed: u64) -> String {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let token = format!("tok-{number}-{:016x}", mix(seed ^ number));
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone());
        token
    }

    /// Whether `headers` carry a token this server issued.
    pub(crate) fn authorizes(&self, headers: &HeaderMap) -> bool {
        let token = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        token.is_some_and(|token| {
            self.issued
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(token)
        })
    }
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct Issued {
    access_token: String,
    token_type: &'static str,
    expires_in: u32,
}

/// `POST /api/v1/auth/login` with `{"username": …, "password": …}` (any non-empty pair).
pub(crate) async fn login(State(state): Shared, body: Body) -> Response {
    let body = read_body(body).await;
    counted(&state, Endpoint::Login, || {
        let bytes = match body {
            Ok(bytes) => bytes,
            Err(too_large) => return too_large,
        };
        match serde_json::from_slice::<Credentials>(&bytes) {
            Ok(c) if !c.username.is_empty() && !c.password.is_empty() => {
                state.hits.event("login.ok");
                responses::json_value(
                    StatusCode::OK,
                    &Issued {
                        access_token: state.tokens.issue(state.seed),
                        token_type: "bearer",
                        expires_in: 3600,
                    },
                )
            }
            _ => responses::json(StatusCode::UNPROCESSABLE_ENTITY, INVALID_BODY),
        }
    })
    .await
}

/// A 401 unless `headers` carry an issued token; counts rejections.
pub(crate) fn unauthorized(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    if state.tokens.authorizes(headers) {
        None
    } else {
        state.hits.event("auth.rejected");
        Some(responses::json(StatusCode::UNAUTHORIZED, UNAUTHORIZED))
    }
}
