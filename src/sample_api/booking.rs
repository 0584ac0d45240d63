//! The `availability` and `prereserve` endpoints: reading and writing the reservation store.

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::accommodations;
use super::auth::unauthorized;
use super::config::OverlapStyle;
use super::endpoint::Endpoint;
use super::reservations::{CodeError, PrereserveError};
use super::responses::{self, DATE_OVERLAP, INVALID_BODY, INVALID_DATES, LOCKED, NOT_FOUND};
use super::routes::{AppState, Shared, counted, read_body};
use super::stay_dates::StayDates;

/// Query of `GET /api/v1/accommodations/{id}/availability`.
#[derive(Debug, Deserialize)]
pub(crate) struct DatesQuery {
    check_in: Option<String>,
    check_out: Option<String>,
}

#[derive(Debug, Serialize)]
struct AvailabilityAnswer {
    accommodation_id: u32,
    check_in: String,
    check_out: String,
    available: bool,
}

/// Body of `POST /api/v1/reservations/prereserve`. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct PrereserveRequest {
    accommodation_id: i64,
    check_in: String,
    check_out: String,
    #[expect(dead_code, reason = "validated for shape only; not stored")]
    guest_name: String,
    #[expect(dead_code, reason = "validated for shape only; not stored")]
    guest_phone: Option<String>,
    #[expect(dead_code, reason = "validated for shape only; not stored")]
    guests: Option<i64>,
}

#[derive(Debug, Serialize)]
struct PrereserveAnswer {
    code: String,
    accommodation_id: u32,
    check_in: String,
    check_out: String,
    nights: u64,
    total: u64,
}

/// `GET /api/v1/accommodations/{id}/availability?check_in=…&check_out=…`
pub(crate) async fn availability(
    State(state): Shared,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<DatesQuery>, QueryRejection>,
) -> Response {
    counted(&state, Endpoint::Availability, || {
        availability_answer(&state, id, query)
    })
    .await
}

fn availability_answer(
    state: &AppState,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<DatesQuery>, QueryRejection>,
) -> Response {
    let found = id
        .ok()
        .and_then(|Path(id)| id.parse::<i64>().ok())
        .and_then(accommodations::find);
    let Some((index, accommodation)) = found else {
        return responses::json(StatusCode::NOT_FOUND, NOT_FOUND);
    };
    // A malformed query (e.g. a repeated key) is as unusable as missing dates.
    let dates = query.ok().and_then(|Query(query)| {
        StayDates::parse(query.check_in.as_deref(), query.check_out.as_deref()).ok()
    });
    let Some(dates) = dates else {
        return responses::json(StatusCode::UNPROCESSABLE_ENTITY, INVALID_DATES);
    };
    let Some(available) = state.reservations.is_available(index, dates) else {
        return responses::json(StatusCode::NOT_FOUND, NOT_FOUND);
    };
    responses::json_value(
        StatusCode::OK,
        &AvailabilityAnswer {
            accommodation_id: accommodation.id,
            check_in: dates.check_in.to_string(),
            check_out: dates.check_out.to_string(),
            available,
        },
    )
}

/// `POST /api/v1/reservations/{code}/confirm`, with a bearer token.
pub(crate) async fn confirm(
    State(state): Shared,
    headers: HeaderMap,
    code: Result<Path<String>, PathRejection>,
) -> Response {
    counted(&state, Endpoint::Confirm, || {
        settle(&state, &headers, code, "confirm.ok", |code| {
            state.reservations.confirm(code)
        })
    })
    .await
}

/// `POST /api/v1/reservations/{code}/cancel`, with a bearer token: frees the dates.
pub(crate) async fn cancel(
    State(state): Shared,
    headers: HeaderMap,
    code: Result<Path<String>, PathRejection>,
) -> Response {
    counted(&state, Endpoint::Cancel, || {
        settle(&state, &headers, code, "cancel.ok", |code| {
            state.reservations.cancel(code)
        })
    })
    .await
}

/// Confirm or cancel: authorise, find the code, apply `action`.
fn settle(
    state: &AppState,
    headers: &HeaderMap,
    code: Result<Path<String>, PathRejection>,
    event: &'static str,
    action: impl FnOnce(&str) -> Result<(), CodeError>,
) -> Response {
    if let Some(rejection) = unauthorized(state, headers) {
        return rejection;
    }
    let Ok(Path(code)) = code else {
        return responses::json(StatusCode::NOT_FOUND, NOT_FOUND);
    };
    match action(&code) {
        Ok(()) => {
            state.hits.event(event);
            responses::json_value(
                StatusCode::OK,
                &serde_json::json!({ "code": code, "status": event.trim_end_matches(".ok") }),
            )
        }
        Err(CodeError::UnknownCode) => responses::json(StatusCode::NOT_FOUND, NOT_FOUND),
        Err(CodeError::AlreadyConfirmed) => {
            responses::json(StatusCode::CONFLICT, r#"{"error":"already_confirmed"}"#)
        }
    }
}

/// `POST /api/v1/reservations/prereserve`
pub(crate) async fn prereserve(State(state): Shared, body: Body) -> Response {
    let body = read_body(body).await;
    counted(&state, Endpoint::Prereserve, || match body {
        Ok(bytes) => prereserve_answer(&state, &bytes),
        Err(too_large) => too_large,
    })
    .await
}

fn prereserve_answer(state: &AppState, body: &[u8]) -> Response {
    // Parsed by hand rather than with axum's `Json` so that a bad body (or a missing
    // content type) becomes a counted 422 in this API's format.
    let Ok(request) = serde_json::from_slice::<PrereserveRequest>(body) else {
        return responses::json(StatusCode::UNPROCESSABLE_ENTITY, INVALID_BODY);
    };
    let Some((index, accommodation)) = accommodations::find(request.accommodation_id) else {
        return responses::json(StatusCode::NOT_FOUND, NOT_FOUND);
    };
    let Ok(dates) = StayDates::parse(Some(&request.check_in), Some(&request.check_out)) else {
        return responses::json(StatusCode::UNPROCESSABLE_ENTITY, INVALID_DATES);
    };
    let body_style = state.overlap_style == OverlapStyle::Body;
    match state.reservations.prereserve(index, dates, !body_style) {
        Ok(code) => {
            state.hits.event("prereserve.created");
            let nights = dates.nights();
            responses::json_value(
                StatusCode::CREATED,
                &PrereserveAnswer {
                    code: code.to_string(),
                    accommodation_id: accommodation.id,
                    check_in: dates.check_in.to_string(),
                    check_out: dates.check_out.to_string(),
                    nights,
                    total: nights.saturating_mul(accommodation.price_per_night),
                },
            )
        }
        Err(PrereserveError::DateOverlap) => {
            state.hits.event("prereserve.overlap");
            let status = if body_style {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            responses::json(status, DATE_OVERLAP)
        }
        Err(PrereserveError::Locked) => {
            state.hits.event("prereserve.locked");
            responses::json(StatusCode::OK, LOCKED)
        }
        Err(PrereserveError::UnknownAccommodation) => {
            responses::json(StatusCode::NOT_FOUND, NOT_FOUND)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{TestServer, client, expected_hits, prereserve_body};
    use serde_json::json;
    use std::collections::HashSet;
    use std::sync::Arc;

    const PRERESERVE: &str = "/api/v1/reservations/prereserve";

    fn availability_path(id: &str, check_in: &str, check_out: &str) -> String {
        format!(
            "/api/v1/accommodations/{id}/availability?check_in={check_in}&check_out={check_out}"
        )
    }

    #[tokio::test]
    async fn availability_reflects_stored_reservations() {
        let server = TestServer::start().await;
        let free = server
            .get(&availability_path("4", "2025-07-01", "2025-07-05"))
            .await;
        assert_eq!(
            free,
            (
                200,
                json!({
                    "accommodation_id": 4,
                    "check_in": "2025-07-01",
                    "check_out": "2025-07-05",
                    "available": true
                })
            )
        );
        assert_eq!(
            server.prereserve(4, "2025-07-03", "2025-07-08").await.0,
            201
        );

        let available = |(status, body): (u16, serde_json::Value)| {
            assert_eq!(status, 200);
            body["available"].as_bool().unwrap()
        };
        assert!(!available(
            server
                .get(&availability_path("4", "2025-07-01", "2025-07-05"))
                .await
        ));
        assert!(!available(
            server
                .get(&availability_path("4", "2025-07-07", "2025-07-09"))
                .await
        ));
        // Back-to-back on either side, and another cabin on the same dates, are free.
        assert!(available(
            server
                .get(&availability_path("4", "2025-07-01", "2025-07-03"))
                .await
        ));
        assert!(available(
            server
                .get(&availability_path("4", "2025-07-08", "2025-07-10"))
                .await
        ));
        assert!(available(
            server
                .get(&availability_path("5", "2025-07-03", "2025-07-08"))
                .await
        ));
    }

    #[tokio::test]
    async fn availability_rejects_unknown_ids_and_bad_dates() {
        let server = TestServer::start().await;
        let not_found = (404, json!({"error": "not_found"}));
        for id in ["0", "11", "-1", "abc", "99999999999999999999"] {
            let path = availability_path(id, "2025-07-01", "2025-07-05");
            assert_eq!(server.get(&path).await, not_found, "{id}");
        }
        let invalid = (422, json!({"error": "invalid_dates"}));
        for query in [
            "",
            "?check_in=2025-07-01",
            "?check_out=2025-07-05",
            "?check_in=2025-07-01&check_out=tomorrow",
            "?check_in=2025-13-01&check_out=2025-07-05",
            "?check_in=2025-07-05&check_out=2025-07-05",
            "?check_in=2025-07-06&check_out=2025-07-05",
            "?check_in=2025-07-01&check_in=2025-07-02&check_out=2025-07-05",
        ] {
            let path = format!("/api/v1/accommodations/1/availability{query}");
            assert_eq!(server.get(&path).await, invalid, "{query}");
        }
        assert_eq!(
            server.api.hits().endpoints,
            expected_hits(&[("availability", 404, 5), ("availability", 422, 8)]).endpoints
        );
    }

    #[tokio::test]
    async fn prereserve_returns_code_nights_and_total() {
        let server = TestServer::start().await;
        let (_, cabins) = server.get("/api/v1/accommodations").await;
        let price = cabins[6]["price_per_night"].as_u64().unwrap();

        let (status, body) = server.prereserve(7, "2025-02-27", "2025-03-02").await;
        assert_eq!(status, 201);
        let fields: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            [
                "code",
                "accommodation_id",
                "check_in",
                "check_out",
                "nights",
                "total"
            ]
        );
        let code = body["code"].as_str().unwrap();
        assert_eq!(code.len(), 11, "{code}");
        assert!(code.starts_with("PR-"), "{code}");
        assert_eq!(body["accommodation_id"], 7);
        assert_eq!(body["check_in"], "2025-02-27");
        assert_eq!(body["check_out"], "2025-03-02");
        assert_eq!(body["nights"], 3);
        assert_eq!(body["total"], json!(3 * price));
    }

    #[tokio::test]
    async fn overlaps_conflict_and_back_to_back_stays_succeed() {
        let server = TestServer::start().await;
        let mut codes = HashSet::new();
        let mut created = |(status, body): (u16, serde_json::Value)| {
            assert_eq!(status, 201, "{body}");
            assert!(codes.insert(body["code"].as_str().unwrap().to_string()));
        };
        created(server.prereserve(1, "2025-01-10", "2025-01-15").await);
        let conflict = (409, json!({"error": "date_overlap"}));
        for (check_in, check_out) in [
            ("2025-01-10", "2025-01-15"),
            ("2025-01-11", "2025-01-12"),
            ("2025-01-05", "2025-01-11"),
            ("2025-01-14", "2025-01-20"),
            ("2025-01-01", "2025-01-31"),
        ] {
            let answer = server.prereserve(1, check_in, check_out).await;
            assert_eq!(answer, conflict, "{check_in}..{check_out}");
        }
        created(server.prereserve(1, "2025-01-05", "2025-01-10").await);
        created(server.prereserve(1, "2025-01-15", "2025-01-20").await);
        created(server.prereserve(2, "2025-01-10", "2025-01-15").await);
        let hits = server.api.hits();
        assert_eq!(
            hits.endpoints,
            expected_hits(&[("prereserve", 201, 4), ("prereserve", 409, 5)]).endpoints
        );
        assert_eq!(hits.event("prereserve.created"), 4);
        assert_eq!(hits.event("prereserve.overlap"), 5);
    }

    #[tokio::test]
    async fn prereserve_rejects_bad_bodies_unknown_cabins_and_bad_dates() {
        let server = TestServer::start().await;
        let invalid_body = (422, json!({"error": "invalid_body"}));
        for body in [
            "",
            "not json",
            "[]",
            r#"{"accommodation_id": 1}"#,
            r#"{"accommodation_id": "1", "check_in": "2025-01-01", "check_out": "2025-01-02", "guest_name": "Ana"}"#,
            r#"{"accommodation_id": 1, "check_in": "2025-01-01", "check_out": "2025-01-02"}"#,
            r#"{"accommodation_id": 1, "check_in": "2025-01-01", "check_out": "2025-01-02", "guest_name": "Ana", "guests": "two"}"#,
        ] {
            assert_eq!(server.post(PRERESERVE, body).await, invalid_body, "{body}");
        }
        // A body with a content type axum's `Json` would refuse is still ours to judge.
        let wrong_type = server
            .client
            .post(server.url(PRERESERVE))
            .header("content-type", "text/plain")
            .body("{oops")
            .send()
            .await
            .unwrap();
        assert_eq!(
            super::super::test_support::answer(wrong_type).await,
            invalid_body
        );
        let no_type = server
            .client
            .post(server.url(PRERESERVE))
            .body(prereserve_body(3, "2025-01-01", "2025-01-02"))
            .send()
            .await
            .unwrap();
        assert_eq!(no_type.status(), 201);

        let not_found = (404, json!({"error": "not_found"}));
        assert_eq!(
            server.prereserve(0, "2025-01-01", "2025-01-02").await,
            not_found
        );
        assert_eq!(
            server.prereserve(11, "2025-01-01", "2025-01-02").await,
            not_found
        );

        let invalid_dates = (422, json!({"error": "invalid_dates"}));
        for (check_in, check_out) in [
            ("2025-01-02", "2025-01-02"),
            ("2025-01-03", "2025-01-02"),
            ("2025-02-30", "2025-03-02"),
            ("yesterday", "2025-01-02"),
        ] {
            let answer = server.prereserve(1, check_in, check_out).await;
            assert_eq!(answer, invalid_dates, "{check_in}..{check_out}");
        }
        assert_eq!(
            server.api.hits().endpoints,
            expected_hits(&[
                ("prereserve", 201, 1),
                ("prereserve", 404, 2),
                ("prereserve", 422, 12),
            ])
            .endpoints
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_identical_prereserves_create_exactly_one() {
        let server = TestServer::start().await;
        let url = server.url(PRERESERVE);
        let body = prereserve_body(9, "2025-12-20", "2025-12-27");
        let barrier = Arc::new(tokio::sync::Barrier::new(20));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (client, url, body, barrier) =
                (client(), url.clone(), body.clone(), barrier.clone());
            tasks.spawn(async move {
                barrier.wait().await;
                let response = client.post(url).body(body).send().await.unwrap();
                response.status().as_u16()
            });
        }
        let mut statuses = Vec::new();
        while let Some(status) = tasks.join_next().await {
            statuses.push(status.unwrap());
        }
        statuses.sort_unstable();
        let mut expected = vec![201];
        expected.extend([409; 19]);
        assert_eq!(statuses, expected);
        assert_eq!(
            server.api.hits().endpoints,
            expected_hits(&[("prereserve", 201, 1), ("prereserve", 409, 19)]).endpoints
        );
    }
}
