//! The webhook endpoints: WhatsApp Cloud API messages and MercadoPago payment notices.
//! Both verify the sender's signature first (403 otherwise, see `signatures`), then only
//! acknowledge what they receive; neither changes any state.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::endpoint::Endpoint;
use super::responses::{self, INVALID_BODY, INVALID_SIGNATURE};
use super::routes::{Shared, counted, read_body};
use super::signatures;

#[derive(Debug, Serialize)]
struct Received {
    status: &'static str,
    messages: usize,
}

/// `POST /api/v1/webhooks/whatsapp`: any JSON is accepted; answers how many messages it
/// carried under `entry[].changes[].value.messages[]`.
pub(crate) async fn whatsapp(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    let body = read_body(body).await;
    counted(&state, Endpoint::WhatsappWebhook, || {
        let bytes = match body {
            Ok(bytes) => bytes,
            Err(too_large) => return too_large,
        };
        if !signatures::whatsapp_valid(&state.whatsapp_secret, &headers, &bytes) {
            state.hits.event("whatsapp.signature_rejected");
            return responses::json(StatusCode::FORBIDDEN, INVALID_SIGNATURE);
        }
        state.hits.event("whatsapp.signature_ok");
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(payload) => responses::json_value(
                StatusCode::OK,
                &Received {
                    status: "received",
                    messages: count_messages(&payload),
                },
            ),
            Err(_) => responses::json(StatusCode::UNPROCESSABLE_ENTITY, INVALID_BODY),
        }
    })
    .await
}

/// `POST /api/v1/webhooks/mercadopago`: needs JSON with a string or numeric `data.id`.
pub(crate) async fn mercadopago(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    let body = read_body(body).await;
    counted(&state, Endpoint::MercadopagoWebhook, || {
        let bytes = match body {
            Ok(bytes) => bytes,
            Err(too_large) => return too_large,
        };
        let payment_id = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|payload| payload.get("data")?.get("id").cloned());
        // MercadoPago sends ids as strings in webhooks and as numbers elsewhere.
        let id = match payment_id {
            Some(Value::String(id)) if !id.is_empty() => id,
            Some(Value::Number(n)) => n.to_string(),
            _ => return responses::json(StatusCode::UNPROCESSABLE_ENTITY, INVALID_BODY),
        };
        if !signatures::mercadopago_valid(&state.mercadopago_secret, &headers, &id) {
            state.hits.event("mercadopago.signature_rejected");
            return responses::json(StatusCode::FORBIDDEN, INVALID_SIGNATURE);
        }
        state.hits.event("mercadopago.signature_ok");
        responses::json(StatusCode::OK, r#"{"status":"processed"}"#)
    })
    .await
}

/// Messages in a WhatsApp Cloud API notification; missing levels count as none.
fn count_messages(payload: &Value) -> usize {
    let entries = payload.get("entry").and_then(Value::as_array);
    entries
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get("changes")?.as_array())
        .flatten()
        .filter_map(|change| change.get("value")?.get("messages")?.as_array())
        .map(Vec::len)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_messages_across_entries_and_changes() {
        let payload = json!({
            "object": "whatsapp_business_account",
            "entry": [
                {"changes": [
                    {"value": {"messages": [{"type": "text"}, {"type": "audio"}]}},
                    {"value": {"statuses": [{"status": "read"}]}}
                ]},
                {"changes": [{"value": {"messages": [{"type": "text"}]}}]}
            ]
        });
        assert_eq!(count_messages(&payload), 3);
    }

    #[test]
    fn missing_or_odd_levels_count_as_zero() {
        for payload in [
            json!({}),
            json!([]),
            json!("text"),
            json!({"entry": {}}),
            json!({"entry": [{"changes": [{"value": {"messages": "x"}}]}]}),
        ] {
            assert_eq!(count_messages(&payload), 0, "{payload}");
        }
    }

    use super::super::test_support::{TestServer, expected_hits};

    const WHATSAPP: &str = "/api/v1/webhooks/whatsapp";
    const MERCADOPAGO: &str = "/api/v1/webhooks/mercadopago";

    #[tokio::test]
    async fn whatsapp_webhook_acknowledges_messages() {
        let server = TestServer::start().await;
        let notification = json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": "102290129340398",
                "changes": [{
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "messages": [
                            {"from": "5492944000000", "id": "wamid.1", "type": "text",
                             "text": {"body": "¿Tienen lugar para el finde?"}},
                            {"from": "5492944000000", "id": "wamid.2", "type": "audio",
                             "audio": {"id": "1234", "mime_type": "audio/ogg"}}
                        ]
                    }
                }]
            }]
        });
        assert_eq!(
            server.post_whatsapp_signed(&notification.to_string()).await,
            (200, json!({"status": "received", "messages": 2}))
        );
        assert_eq!(
            server
                .post_whatsapp_signed(r#"{"object":"whatsapp_business_account","entry":[]}"#)
                .await,
            (200, json!({"status": "received", "messages": 0}))
        );
        assert_eq!(
            server.post_whatsapp_signed("<xml/>").await,
            (422, json!({"error": "invalid_body"}))
        );
        // Unsigned: refused before the body is looked at.
        assert_eq!(
            server.post(WHATSAPP, notification.to_string()).await,
            (403, json!({"error": "invalid_signature"}))
        );
        let hits = server.api.hits();
        assert_eq!(
            hits.endpoints,
            expected_hits(&[
                ("whatsapp_webhook", 200, 2),
                ("whatsapp_webhook", 403, 1),
                ("whatsapp_webhook", 422, 1)
            ])
            .endpoints
        );
        assert_eq!(hits.event("whatsapp.signature_ok"), 3);
        assert_eq!(hits.event("whatsapp.signature_rejected"), 1);
    }

    #[tokio::test]
    async fn mercadopago_webhook_needs_a_payment_id() {
        let server = TestServer::start().await;
        let processed = (200, json!({"status": "processed"}));
        let invalid = (422, json!({"error": "invalid_body"}));
        assert_eq!(
            server
                .post_mercadopago_signed(
                    r#"{"type":"payment","data":{"id":"123456789"}}"#,
                    "123456789"
                )
                .await,
            processed
        );
        assert_eq!(
            server
                .post_mercadopago_signed(
                    r#"{"type":"payment","data":{"id":123456789}}"#,
                    "123456789"
                )
                .await,
            processed
        );
        // Signed for another payment: refused.
        assert_eq!(
            server
                .post_mercadopago_signed(r#"{"type":"payment","data":{"id":"42"}}"#, "123456789")
                .await,
            (403, json!({"error": "invalid_signature"}))
        );
        for body in [
            "payment",
            r#"{"type":"payment"}"#,
            r#"{"type":"payment","data":{}}"#,
            r#"{"type":"payment","data":{"id":null}}"#,
            r#"{"type":"payment","data":{"id":""}}"#,
        ] {
            assert_eq!(server.post(MERCADOPAGO, body).await, invalid, "{body}");
        }
        let hits = server.api.hits();
        assert_eq!(
            hits.endpoints,
            expected_hits(&[
                ("mercadopago_webhook", 200, 2),
                ("mercadopago_webhook", 403, 1),
                ("mercadopago_webhook", 422, 5)
            ])
            .endpoints
        );
        assert_eq!(hits.event("mercadopago.signature_ok"), 2);
        assert_eq!(hits.event("mercadopago.signature_rejected"), 1);
    }
}
