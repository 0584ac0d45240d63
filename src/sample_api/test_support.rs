//! Test helpers: a sample API on an ephemeral loopback port and a client that talks to
//! it over real TCP.

use super::config::{SAMPLE_MERCADOPAGO_SECRET, SAMPLE_WHATSAPP_SECRET};
use super::signatures::hmac_hex;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

use serde_json::Value;

use super::hits::EndpointHits;
use super::{HitCounts, SampleApi, SampleApiConfig};

/// A started sample API and an HTTP client for it.
pub(crate) struct TestServer {
    pub(crate) api: SampleApi,
    pub(crate) client: reqwest::Client,
}

/// An HTTP client that never goes through a proxy from the environment.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// `127.0.0.1:0`
pub(crate) fn ephemeral() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

impl TestServer {
    /// A server with the default (instant, reliable) config.
    pub(crate) async fn start() -> Self {
        Self::with_config(SampleApiConfig::default()).await
    }

    pub(crate) async fn with_config(config: SampleApiConfig) -> Self {
        let api = SampleApi::start(ephemeral(), config).await.unwrap();
        Self {
            api,
            client: client(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api.base_url())
    }

    /// GET `path`; the status and the JSON body.
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        answer(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    /// POST `body` as `application/json` to `path`; the status and the JSON body.
    pub(crate) async fn post(&self, path: &str, body: impl Into<String>) -> (u16, Value) {
        let request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.into());
        answer(request.send().await.unwrap()).await
    }

    /// POST a WhatsApp notification signed with the default app secret.
    pub(crate) async fn post_whatsapp_signed(&self, body: &str) -> (u16, Value) {
        let signature = hmac_hex(SAMPLE_WHATSAPP_SECRET, body.as_bytes());
        let request = self
            .client
            .post(self.url("/api/v1/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", format!("sha256={signature}"))
            .body(body.to_owned());
        answer(request.send().await.unwrap()).await
    }

    /// POST a Mercado Pago notification about `data_id`, signed with the default secret.
    pub(crate) async fn post_mercadopago_signed(&self, body: &str, data_id: &str) -> (u16, Value) {
        let manifest = format!("id:{data_id};request-id:req-1;ts:1700000000;");
        let v1 = hmac_hex(SAMPLE_MERCADOPAGO_SECRET, manifest.as_bytes());
        let request = self
            .client
            .post(self.url("/api/v1/webhooks/mercadopago"))
            .header("content-type", "application/json")
            .header("x-request-id", "req-1")
            .header("x-signature", format!("ts=1700000000,v1={v1}"))
            .body(body.to_owned());
        answer(request.send().await.unwrap()).await
    }

    /// POST a pre-reservation of `accommodation_id` for `[check_in, check_out)`.
    pub(crate) async fn prereserve(
        &self,
        accommodation_id: i64,
        check_in: &str,
        check_out: &str,
    ) -> (u16, Value) {
        self.post(
            "/api/v1/reservations/prereserve",
            prereserve_body(accommodation_id, check_in, check_out),
        )
        .await
    }

    /// The counts as served by `GET /__planrun/hits`.
    pub(crate) async fn hits_over_http(&self) -> HitCounts {
        let response = self
            .client
            .get(self.url("/__planrun/hits"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
    }
}

/// The status and JSON body of `response`; panics if the body is not JSON.
pub(crate) async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_string());
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let bytes = response.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
    (status, body)
}

/// A valid pre-reservation body.
pub(crate) fn prereserve_body(accommodation_id: i64, check_in: &str, check_out: &str) -> String {
    serde_json::json!({
        "accommodation_id": accommodation_id,
        "check_in": check_in,
        "check_out": check_out,
        "guest_name": "Lucía Fernández",
        "guest_phone": "+5492944000000",
        "guests": 2
    })
    .to_string()
}

/// Builds the `HitCounts` expected from `(endpoint, status, count)` triples.
pub(crate) fn expected_hits(triples: &[(&str, u16, u64)]) -> HitCounts {
    let mut endpoints: BTreeMap<String, EndpointHits> = BTreeMap::new();
    for &(endpoint, status, count) in triples {
        let hits = endpoints.entry(endpoint.to_string()).or_default();
        hits.total += count;
        *hits.by_status.entry(status).or_default() += count;
    }
    HitCounts {
        endpoints,
        events: Default::default(),
    }
}
