//! Webhook signatures as the real senders make them, so a load test exercises the
//! processing path rather than the 403 path:
//! - WhatsApp: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`;
//! - Mercado Pago: `x-signature: ts=<unix>,v1=<hex HMAC-SHA256(secret, manifest)>`, the
//!   manifest being `id:<data.id>;request-id:<x-request-id>;ts:<ts>;`.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub(crate) fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Compares without an early exit, as a real verifier must.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Whether a WhatsApp webhook's body carries a valid signature.
pub(crate) fn whatsapp_valid(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let given = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="));
    given.is_some_and(|given| same(given, &hmac_hex(secret, body)))
}

/// Whether a Mercado Pago notification about payment `data_id` carries a valid signature.
pub(crate) fn mercadopago_valid(secret: &str, headers: &HeaderMap, data_id: &str) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(request_id)) = (header("x-signature"), header("x-request-id"))
    else {
        return false;
    };
    let part = |key: &str| {
        signature
            .split(',')
            .filter_map(|p| p.trim().split_once('='))
            .find_map(|(k, v)| (k == key).then_some(v))
    };
    let (Some(ts), Some(v1)) = (part("ts"), part("v1")) else {
        return false;
    };
    let manifest = format!("id:{data_id};request-id:{request_id};ts:{ts};");
    same(v1, &hmac_hex(secret, manifest.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_signature_of_the_raw_body() {
        let body = br#"{"entry":[]}"#;
        let mut headers = HeaderMap::new();
        let good = format!("sha256={}", hmac_hex("s3cret", body));
        headers.insert("x-hub-signature-256", good.parse().unwrap());
        assert!(whatsapp_valid("s3cret", &headers, body));
        assert!(!whatsapp_valid("other", &headers, body));
        assert!(!whatsapp_valid("s3cret", &headers, b"{}"));
        assert!(!whatsapp_valid("s3cret", &HeaderMap::new(), body));
    }

    #[test]
    fn mercadopago_signature_of_the_manifest() {
        let v1 = hmac_hex("mp", b"id:123;request-id:r-9;ts:1700000000;");
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "r-9".parse().unwrap());
        headers.insert(
            "x-signature",
            format!("ts=1700000000,v1={v1}").parse().unwrap(),
        );
        assert!(mercadopago_valid("mp", &headers, "123"));
        assert!(!mercadopago_valid("mp", &headers, "124"));
        headers.insert("x-request-id", "r-10".parse().unwrap());
        assert!(!mercadopago_valid("mp", &headers, "123"));
    }
}
