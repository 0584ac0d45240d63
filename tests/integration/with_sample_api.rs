//! Runs through `planrun::run` against the in-process sample API, cross-checking the
//! server's own hit counters against what planrun measured.

use planrun::compile::Overrides;

use crate::support::{results, run_plan};

const EVERY_ENDPOINT: &str = r#"
name: every-endpoint
seed: 11
vars: { ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }
classes:
  ReservationUser:
    weight: 70
    think-time: between 5ms 15ms
    tasks:
      list: { weight: 5, path: /api/v1/accommodations }
      availability:
        weight: 3
        path: "/api/v1/accommodations/{{ choice(ids) }}/availability"
        query: { check_in: "{{ today(40) }}", check_out: "{{ today(42) }}" }
      prereserve:
        weight: 2
        method: POST
        path: /api/v1/reservations/prereserve
        expect-status: [201, 409]
        body: >-
          {% set ci = today(random_int(30, 90)) %}{"accommodation_id": {{ choice(ids) }},
          "check_in": "{{ ci }}", "check_out": "{{ ci | add_days(random_int(2, 5)) }}",
          "guest_name": "Ana {{ user_id }}"}
      health: { weight: 1, path: /api/v1/healthz }
  WhatsAppWebhookUser:
    weight: 20
    think-time: between 5ms 15ms
    tasks:
      whatsapp:
        method: POST
        path: /api/v1/webhooks/whatsapp
        headers:
          X-Hub-Signature-256: "sha256={{ hmac_sha256(env.WHATSAPP_APP_SECRET, body) }}"
        body: '{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"type":"text","id":"{{ uuid() }}"}]}}]}]}'
  MercadoPagoWebhookUser:
    weight: 10
    think-time: between 5ms 15ms
    tasks:
      mercadopago:
        steps:
          - set: { id: "{{ random_int(1, 999999) }}", rid: "{{ uuid() }}" }
          - name: mercadopago
            method: POST
            path: /api/v1/webhooks/mercadopago
            headers:
              X-Request-Id: "{{ rid }}"
              X-Signature: "ts=1,v1={{ hmac_sha256(env.MERCADOPAGO_WEBHOOK_SECRET, 'id:' ~ id ~ ';request-id:' ~ rid ~ ';ts:1;') }}"
            body: '{"type":"payment","data":{"id":"{{ id }}"}}'
load: { users: 20, spawn-rate: 100/s, run-time: 2s, graceful-stop: 2s }
slos:
  - error-rate < 1%
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hit_counters_equal_request_counts_per_endpoint() {
    let (outcome, out) = run_plan(EVERY_ENDPOINT, Overrides::default()).await;
    let hits = outcome.sample_hits.clone().expect("sample API hits");
    let summary = &outcome.summary;
    assert!(
        summary.total.count > 500,
        "only {} requests",
        summary.total.count
    );
    // The preflight's one request reaches the server but is no part of the results.
    assert_eq!(hits.total(), summary.total.count + 1);
    for (name, endpoint) in [
        ("list", "list_accommodations"),
        ("availability", "availability"),
        ("prereserve", "prereserve"),
        ("health", "health"),
        ("whatsapp", "whatsapp_webhook"),
        ("mercadopago", "mercadopago_webhook"),
    ] {
        let measured = summary.request(name).map_or(0, |r| r.count);
        let preflight = u64::from(name == "health");
        assert_eq!(
            measured + preflight,
            hits.count(endpoint),
            "{name} vs {endpoint}"
        );
        assert!(measured > 0, "{name} was never requested");
    }
    assert_eq!(summary.total.failures, 0, "{:?}", summary.failures);
    assert_eq!(outcome.exit_code(), planrun::exit_code::OK);
    assert_eq!(outcome.exec.mix.per_class, vec![14, 4, 2]);
    // Every webhook was signed as the sample API verifies (its secrets stood in for the
    // unset environment variables).
    for webhook in ["whatsapp", "mercadopago"] {
        let ok = hits.event(&format!("{webhook}.signature_ok"));
        assert_eq!(ok, hits.count(&format!("{webhook}_webhook")), "{webhook}");
        assert_eq!(hits.event(&format!("{webhook}.signature_rejected")), 0);
    }

    // The JSON results hold the same numbers.
    let results = results(&outcome.report_dir);
    assert_eq!(results.schema_version, planrun::report::SCHEMA_VERSION);
    assert_eq!(results.aggregate.count, summary.total.count);
    assert_eq!(results.run.users_by_class.get("ReservationUser"), Some(&14));
    assert!(outcome.report_dir.starts_with(out.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_picks_follow_weights_5_3_2_1() {
    let plan = r#"
seed: 3
classes:
  ReservationUser:
    tasks:
      list: { weight: 5, path: /api/v1/accommodations }
      availability: { weight: 3, path: "/api/v1/accommodations/1/availability?check_in=2030-01-01&check_out=2030-01-03" }
      health-a: { weight: 2, path: /api/v1/healthz, name: health-a }
      health-b: { weight: 1, path: /api/v1/healthz, name: health-b }
load: { users: 8, spawn-rate: 1000/s, run-time: 3s }
"#;
    let (outcome, _out) = run_plan(plan, Overrides::default()).await;
    let summary = &outcome.summary;
    let total = summary.total.count as f64;
    assert!(total >= 5000.0, "only {total} requests");
    for (name, weight) in [
        ("list", 5.0),
        ("availability", 3.0),
        ("health-a", 2.0),
        ("health-b", 1.0),
    ] {
        let share = summary.request(name).map_or(0, |r| r.count) as f64 / total;
        let expected = weight / 11.0;
        assert!(
            (share - expected).abs() / expected < 0.10,
            "{name}: {share:.4} of requests, expected {expected:.4}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_slo_that_cannot_hold_fails_with_its_measured_value() {
    let plan = r#"
classes:
  A: { think-time: constant 10ms, tasks: { health: { path: /api/v1/healthz } } }
load: { users: 2, spawn-rate: 100/s, run-time: 1s }
slos:
  - { request: health, check: p95 < 1us }
  - error-rate < 1%
"#;
    let (outcome, _out) = run_plan(plan, Overrides::default()).await;
    assert_eq!(outcome.exit_code(), planrun::exit_code::SLO_BREACHED);
    assert!(!outcome.verdicts[0].passed);
    assert!(outcome.verdicts[0].measured.is_some_and(|m| m >= 1.0));
    assert!(outcome.verdicts[1].passed);
}
