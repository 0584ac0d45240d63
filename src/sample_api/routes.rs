//! The router of the sample API and the pieces every counted endpoint goes through:
//! shared state, the latency/error/count wrapper, the 404 fallback and the hits endpoint.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::accommodations::{self, CATALOGUE};
use super::auth::{self, Tokens};
use super::chaos::Chaos;
use super::config::{OverlapStyle, SampleApiConfig};
use super::endpoint::Endpoint;
use super::hit_counter::HitCounter;
use super::reservations::ReservationStore;
use super::responses::{self, BODY_TOO_LARGE, INJECTED, NOT_FOUND};
use super::timed_faults::TimedFaults;
use super::{booking, webhooks};

/// Largest request body read; WhatsApp webhooks are a few KiB.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything the handlers share.
pub(crate) struct AppState {
    /// Responses given so far.
    pub(crate) hits: HitCounter,
    /// Latency and error injection.
    pub(crate) chaos: Chaos,
    /// Stalls and error windows, by the clock.
    pub(crate) timed: TimedFaults,
    /// Pre-reservations taken so far.
    pub(crate) reservations: ReservationStore,
    /// `GET /api/v1/accommodations` body, encoded once.
    pub(crate) catalogue_json: Bytes,
    pub(crate) tokens: Tokens,
    pub(crate) seed: u64,
    pub(crate) overlap_style: OverlapStyle,
    pub(crate) whatsapp_secret: String,
    pub(crate) mercadopago_secret: String,
}

impl AppState {
    /// Fresh state: no hits, no reservations.
    pub(super) fn new(config: &SampleApiConfig) -> serde_json::Result<Self> {
        Ok(Self {
            hits: HitCounter::default(),
            chaos: Chaos::new(config),
            timed: TimedFaults::new(config.stall, config.error_window, config.seed),
            reservations: ReservationStore::new(CATALOGUE.len(), config.seed),
            catalogue_json: Bytes::from(accommodations::catalogue_json()?),
            tokens: Tokens::default(),
            seed: config.seed,
            overlap_style: config.overlap_style,
            whatsapp_secret: config.whatsapp_secret.clone(),
            mercadopago_secret: config.mercadopago_secret.clone(),
        })
    }
}

/// Shared state as the handlers extract it.
pub(crate) type Shared = State<Arc<AppState>>;

/// All routes. Unknown paths and unsupported methods on known paths both end in the
/// counted `not_found` endpoint, so no request gets an uncounted answer.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/v1/healthz", get(health))
        .route("/api/v1/accommodations", get(list_accommodations))
        .route(
            "/api/v1/accommodations/{id}/availability",
            get(booking::availability),
        )
        .route("/api/v1/reservations/prereserve", post(booking::prereserve))
        .route("/api/v1/auth/login", post(auth::login))
        .route(
            "/api/v1/reservations/{code}/confirm",
            post(booking::confirm),
        )
        .route("/api/v1/reservations/{code}/cancel", post(booking::cancel))
        .route("/api/v1/webhooks/whatsapp", post(webhooks::whatsapp))
        .route("/api/v1/webhooks/mercadopago", post(webhooks::mercadopago))
        .route("/__planrun/hits", get(hits))
        .fallback(not_found)
        // Must come after the routes: it only applies to routes already added.
        .method_not_allowed_fallback(not_found)
        .with_state(state)
}

/// Runs one counted request: waits the configured latency, then either injects a 500
/// or computes `answer`, and counts whatever is returned exactly once.
pub(crate) async fn counted(
    state: &AppState,
    endpoint: Endpoint,
    answer: impl FnOnce() -> Response,
) -> Response {
    let stall = state.timed.stall();
    if !stall.is_zero() {
        tokio::time::sleep(stall).await;
    }
    let decision = state.chaos.decide();
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    let response = if decision.inject_error || state.timed.inject_error() {
        responses::json(StatusCode::INTERNAL_SERVER_ERROR, INJECTED)
    } else {
        answer()
    };
    state.hits.record(endpoint, response.status());
    response
}

/// Reads a whole request body, up to [`MAX_BODY_BYTES`]. Bodies are read before
/// answering, even when the answer ignores them, so that HTTP/1 connections can be kept
/// alive.
pub(crate) async fn read_body(body: Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| responses::json(StatusCode::PAYLOAD_TOO_LARGE, BODY_TOO_LARGE))
}

async fn health(State(state): Shared) -> Response {
    counted(&state, Endpoint::Health, || {
        responses::json(StatusCode::OK, r#"{"status":"ok"}"#)
    })
    .await
}

async fn list_accommodations(State(state): Shared) -> Response {
    counted(&state, Endpoint::ListAccommodations, || {
        // Cloning `Bytes` shares the buffer built at startup.
        responses::json(StatusCode::OK, state.catalogue_json.clone())
    })
    .await
}

async fn not_found(State(state): Shared, body: Body) -> Response {
    let _ = read_body(body).await;
    counted(&state, Endpoint::NotFound, || {
        responses::json(StatusCode::NOT_FOUND, NOT_FOUND)
    })
    .await
}

/// Not counted and never delayed: it observes the server, it is not part of it.
async fn hits(State(state): Shared) -> Response {
    responses::json_value(StatusCode::OK, &state.hits.snapshot())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{TestServer, answer, client, expected_hits};
    use serde_json::json;

    #[tokio::test]
    async fn health_answers_ok() {
        let server = TestServer::start().await;
        assert_eq!(
            server.get("/api/v1/healthz").await,
            (200, json!({"status": "ok"}))
        );
        assert_eq!(
            server.api.hits().endpoints,
            expected_hits(&[("health", 200, 1)]).endpoints
        );
    }

    #[tokio::test]
    async fn list_accommodations_returns_ten_cabins() {
        let server = TestServer::start().await;
        let (status, body) = server.get("/api/v1/accommodations").await;
        assert_eq!(status, 200);
        let cabins = body.as_array().unwrap();
        assert_eq!(cabins.len(), 10);
        for (position, cabin) in cabins.iter().enumerate() {
            let fields: Vec<&str> = cabin
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(fields, ["id", "name", "capacity", "price_per_night"]);
            assert_eq!(cabin["id"], json!(position + 1));
            assert!(!cabin["name"].as_str().unwrap().is_empty());
            assert!(cabin["capacity"].as_u64().unwrap() > 0);
            assert!(cabin["price_per_night"].as_u64().unwrap() > 0);
        }
        assert_eq!(cabins[0]["name"], "Cabaña del Lago");
        // Same bytes every time: the body is built once.
        let (_, again) = server.get("/api/v1/accommodations").await;
        assert_eq!(again, body);
        assert_eq!(server.api.hits().count("list_accommodations"), 2);
    }

    #[tokio::test]
    async fn unknown_paths_and_wrong_methods_are_counted_not_found() {
        let server = TestServer::start().await;
        let not_found = (404, json!({"error": "not_found"}));
        assert_eq!(server.get("/nope").await, not_found);
        assert_eq!(server.get("/api/v1/healthz/extra").await, not_found);
        assert_eq!(
            server.get("/api/v1/reservations/prereserve").await,
            not_found
        );
        assert_eq!(server.post("/api/v1/healthz", "{}").await, not_found);
        let delete = server
            .client
            .delete(server.url("/api/v1/accommodations"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer(delete).await, not_found);
        assert_eq!(
            server.api.hits().endpoints,
            expected_hits(&[("not_found", 404, 5)]).endpoints
        );
    }

    #[tokio::test]
    async fn oversized_bodies_get_a_counted_413() {
        let server = TestServer::start().await;
        let huge = "x".repeat(super::MAX_BODY_BYTES + 1);
        let (status, body) = server.post("/api/v1/webhooks/whatsapp", huge).await;
        assert_eq!((status, body), (413, json!({"error": "body_too_large"})));
        assert_eq!(
            server.api.hits().endpoints,
            expected_hits(&[("whatsapp_webhook", 413, 1)]).endpoints
        );
    }

    #[tokio::test]
    async fn hit_counts_match_requests_sent_per_endpoint_and_status() {
        let server = TestServer::start().await;
        for _ in 0..5 {
            server.get("/api/v1/healthz").await;
        }
        for _ in 0..3 {
            server.get("/api/v1/accommodations").await;
        }
        let dates = "check_in=2025-05-01&check_out=2025-05-03";
        server
            .get(&format!("/api/v1/accommodations/2/availability?{dates}"))
            .await;
        server
            .get(&format!("/api/v1/accommodations/3/availability?{dates}"))
            .await;
        server
            .get(&format!("/api/v1/accommodations/99/availability?{dates}"))
            .await;
        server.get("/api/v1/accommodations/2/availability").await;
        server.prereserve(2, "2025-05-01", "2025-05-03").await;
        server.prereserve(2, "2025-05-02", "2025-05-04").await;
        server.prereserve(42, "2025-05-01", "2025-05-03").await;
        server.post("/api/v1/reservations/prereserve", "nope").await;
        server.post("/api/v1/webhooks/whatsapp", "{}").await;
        server.post("/api/v1/webhooks/mercadopago", "{}").await;
        server.get("/missing").await;

        let expected = expected_hits(&[
            ("health", 200, 5),
            ("list_accommodations", 200, 3),
            ("availability", 200, 2),
            ("availability", 404, 1),
            ("availability", 422, 1),
            ("prereserve", 201, 1),
            ("prereserve", 409, 1),
            ("prereserve", 404, 1),
            ("prereserve", 422, 1),
            ("whatsapp_webhook", 403, 1),
            ("mercadopago_webhook", 422, 1),
            ("not_found", 404, 1),
        ]);
        assert_eq!(server.api.hits().endpoints, expected.endpoints);
        assert_eq!(server.api.hits().total(), 19);
        // The hits endpoint reports the same counts and does not count itself.
        let over_http = server.hits_over_http().await;
        assert_eq!(over_http.endpoints, expected.endpoints);
        assert_eq!(over_http.events, server.api.hits().events);
        assert_eq!(over_http.event("prereserve.created"), 1);
        assert_eq!(server.hits_over_http().await.endpoints, expected.endpoints);
        assert_eq!(server.api.hits().endpoints, expected.endpoints);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_requests_are_each_counted_once() {
        let server = TestServer::start().await;
        let base = server.api.base_url();
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..16 {
            // Separate clients so requests really run over parallel connections.
            let client = client();
            let base = base.clone();
            tasks.spawn(async move {
                for i in 0..50 {
                    let path = if (worker + i) % 5 == 0 {
                        "/gone"
                    } else {
                        "/api/v1/healthz"
                    };
                    let response = client.get(format!("{base}{path}")).send().await.unwrap();
                    response.bytes().await.unwrap();
                }
            });
        }
        while let Some(joined) = tasks.join_next().await {
            joined.unwrap();
        }
        assert_eq!(
            server.api.hits().endpoints,
            expected_hits(&[("health", 200, 640), ("not_found", 404, 160)]).endpoints
        );
    }
}
