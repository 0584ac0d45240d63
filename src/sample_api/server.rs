//! `SampleApi`: a running sample API server, and the `planrun sample-api` entry point.

use std::future::Future;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::config::SampleApiConfig;
use super::hits::HitCounts;
use super::routes::{self, AppState};

/// A sample API serving on a loopback address from a spawned tokio task.
///
/// Dropping it without [`SampleApi::shutdown`] still asks the server to stop, but does
/// not wait for it.
pub struct SampleApi {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SampleApi {
    /// Binds `addr` (tests pass `127.0.0.1:0` for an ephemeral port) and serves in a
    /// spawned tokio task. Fails with `InvalidInput` for a non-loopback address, since
    /// this toy server must never be reachable from the network, or for an `error_rate`
    /// outside `0.0..=1.0`.
    pub(crate) async fn start(addr: SocketAddr, config: SampleApiConfig) -> io::Result<SampleApi> {
        SampleApi::bind(addr, config)?.serve()
    }

    /// Binds without serving yet, outside any runtime: the address is known (and the
    /// plan can be compiled against it) before the runtime that will serve is built.
    pub(crate) fn bind(addr: SocketAddr, config: SampleApiConfig) -> io::Result<BoundSampleApi> {
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the sample API only binds loopback addresses, not {addr}"),
            ));
        }
        config.validate()?;
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(BoundSampleApi { listener, config })
    }
}

/// A sample API bound to its address, not serving yet (see [`SampleApi::bind`]).
#[derive(Debug)]
pub(crate) struct BoundSampleApi {
    listener: std::net::TcpListener,
    config: SampleApiConfig,
}

impl BoundSampleApi {
    /// `http://127.0.0.1:PORT`
    pub(crate) fn base_url(&self) -> io::Result<String> {
        Ok(format!("http://{}", self.listener.local_addr()?))
    }

    pub(crate) fn config(&self) -> &SampleApiConfig {
        &self.config
    }

    /// Serves in a spawned task; must be called inside a tokio runtime.
    pub(crate) fn serve(self) -> io::Result<SampleApi> {
        let state = Arc::new(AppState::new(&self.config).map_err(io::Error::other)?);
        let listener = TcpListener::from_std(self.listener)?;
        let addr = listener.local_addr()?;
        let listener = listener.tap_io(|tcp| {
            // Small JSON answers should not wait on Nagle's algorithm; failing to set it
            // only costs latency, so it is not worth refusing the connection.
            let _ = tcp.set_nodelay(true);
        });
        let app = routes::router(Arc::clone(&state));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                // A dropped sender means the handle is gone: stop as well.
                let _ = stopped.await;
            });
            if let Err(error) = server.await {
                eprintln!("sample API stopped with an error: {error}");
            }
        });
        Ok(SampleApi {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

impl SampleApi {
    /// The address actually bound (with the real port when started on port 0).
    #[cfg(test)]
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A snapshot of the hit counters. Every counter is exact, each endpoint's total is
    /// the sum of its statuses, and every response already sent is included.
    pub(crate) fn hits(&self) -> HitCounts {
        self.state.hits.snapshot()
    }

    /// Graceful shutdown: stops accepting connections, lets requests in flight finish,
    /// and waits for the server task to end.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // A panicked server task has nothing left to clean up.
            let _ = task.await;
        }
    }
}

impl Drop for SampleApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// For the `planrun sample-api` command: binds 127.0.0.1:`port` (0 = ephemeral), prints
/// `sample API listening on http://127.0.0.1:PORT` to stdout, serves until Ctrl-C, then
/// prints the hit counts as a small table and returns.
pub async fn serve_until_ctrl_c(port: u16, config: SampleApiConfig) -> anyhow::Result<()> {
    serve_until(port, config, tokio::signal::ctrl_c(), io::stdout()).await
}

/// [`serve_until_ctrl_c`] with the stop signal and the output as parameters, so that
/// tests can drive it.
pub(crate) async fn serve_until(
    port: u16,
    config: SampleApiConfig,
    stop: impl Future<Output = io::Result<()>>,
    mut out: impl Write,
) -> anyhow::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let api = SampleApi::start(addr, config)
        .await
        .with_context(|| format!("cannot start the sample API on {addr}"))?;
    writeln!(out, "sample API listening on {}", api.base_url())?;
    out.flush()?;
    let stopped = stop.await;
    let state = Arc::clone(&api.state);
    api.shutdown().await;
    stopped.context("cannot wait for Ctrl-C")?;
    // Read after shutdown, so requests that were in flight are included.
    // The table ends with its own newline.
    write!(out, "\n{}", state.hits.snapshot())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample_api::stay_dates::StayDates;
    use crate::sample_api::test_support::{TestServer, client, ephemeral, expected_hits};
    use serde_json::json;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn addr_and_base_url_name_the_bound_port() {
        let server = TestServer::start().await;
        let addr = server.api.addr();
        assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
        assert_ne!(addr.port(), 0);
        assert_eq!(
            server.api.base_url(),
            format!("http://127.0.0.1:{}", addr.port())
        );
        assert_eq!(server.get("/api/v1/healthz").await.0, 200);
    }

    #[tokio::test]
    async fn start_refuses_non_loopback_addresses_and_bad_error_rates() {
        let everywhere = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        let error = SampleApi::start(everywhere, SampleApiConfig::default())
            .await
            .err()
            .unwrap();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);

        let config = SampleApiConfig {
            error_rate: 1.5,
            ..SampleApiConfig::default()
        };
        let error = SampleApi::start(ephemeral(), config).await.err().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn error_rate_one_injects_500_everywhere_and_counts_them() {
        let server = TestServer::with_config(SampleApiConfig {
            error_rate: 1.0,
            ..SampleApiConfig::default()
        })
        .await;
        let injected = (500, json!({"error": "injected"}));
        assert_eq!(server.get("/api/v1/healthz").await, injected);
        assert_eq!(server.get("/api/v1/accommodations").await, injected);
        let path = "/api/v1/accommodations/1/availability?check_in=2025-01-01&check_out=2025-01-02";
        assert_eq!(server.get(path).await, injected);
        assert_eq!(
            server.prereserve(1, "2025-01-01", "2025-01-02").await,
            injected
        );
        assert_eq!(
            server.prereserve(1, "2025-01-01", "2025-01-02").await,
            injected
        );
        assert_eq!(
            server.post("/api/v1/webhooks/whatsapp", "{}").await,
            injected
        );
        assert_eq!(
            server.post("/api/v1/webhooks/mercadopago", "{}").await,
            injected
        );
        assert_eq!(server.get("/nowhere").await, injected);

        let expected = expected_hits(&[
            ("health", 500, 1),
            ("list_accommodations", 500, 1),
            ("availability", 500, 1),
            ("prereserve", 500, 2),
            ("whatsapp_webhook", 500, 1),
            ("mercadopago_webhook", 500, 1),
            ("not_found", 500, 1),
        ]);
        // The hits endpoint itself is never failed on purpose.
        assert_eq!(server.hits_over_http().await, expected);
        assert_eq!(server.api.hits(), expected);
        // An injected failure replaces the answer, so nothing was stored.
        let stay = StayDates::parse(Some("2025-01-01"), Some("2025-01-02")).unwrap();
        let reservations = &server.api.state.reservations;
        assert_eq!(reservations.is_available(0, stay), Some(true));
    }

    #[tokio::test]
    async fn latency_delays_every_counted_response() {
        let latency = Duration::from_millis(150);
        let jitter = Duration::from_millis(50);
        let server = TestServer::with_config(SampleApiConfig {
            latency,
            jitter,
            ..SampleApiConfig::default()
        })
        .await;
        for path in ["/api/v1/healthz", "/api/v1/accommodations", "/missing"] {
            let started = Instant::now();
            let (status, _) = server.get(path).await;
            let elapsed = started.elapsed();
            assert!(elapsed >= latency, "{path} took {elapsed:?}");
            assert!(status == 200 || status == 404);
        }
        let started = Instant::now();
        let (status, _) = server.prereserve(1, "2025-01-01", "2025-01-02").await;
        assert_eq!(status, 201);
        assert!(started.elapsed() >= latency);
    }

    #[tokio::test]
    async fn shutdown_finishes_requests_in_flight_then_stops_accepting() {
        let latency = Duration::from_millis(300);
        let server = TestServer::with_config(SampleApiConfig {
            latency,
            ..SampleApiConfig::default()
        })
        .await;
        let addr = server.api.addr();
        // Leaves an idle keep-alive connection in the client's pool, which must not
        // hold the shutdown up.
        assert_eq!(server.get("/api/v1/healthz").await.0, 200);
        let in_flight = tokio::spawn({
            let (client, url) = (client(), server.url("/api/v1/healthz"));
            async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
        });
        tokio::time::sleep(latency / 3).await;

        let TestServer { api, client } = server;
        tokio::time::timeout(Duration::from_secs(10), api.shutdown())
            .await
            .unwrap();
        assert_eq!(in_flight.await.unwrap().unwrap(), 200);
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
        assert!(
            client
                .get(format!("http://{addr}/api/v1/healthz"))
                .send()
                .await
                .is_err()
        );
    }

    /// A `Write` whose contents the test can read while `serve_until` still holds it.
    #[derive(Clone, Default)]
    struct SharedOutput(Arc<Mutex<Vec<u8>>>);

    impl Write for SharedOutput {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl SharedOutput {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[tokio::test]
    async fn serve_until_prints_the_url_then_a_table_of_hits() {
        let output = SharedOutput::default();
        let seen = output.clone();
        // Stands in for Ctrl-C: only polled once the server is up, so it can read the
        // announced URL, use the server, and then return to stop it.
        let stop = async move {
            let text = seen.text();
            let url = text
                .trim_end()
                .strip_prefix("sample API listening on ")
                .unwrap()
                .to_string();
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            let client = client();
            for _ in 0..3 {
                let response = client
                    .get(format!("{url}/api/v1/healthz"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            }
            let response = client.get(format!("{url}/nope")).send().await.unwrap();
            assert_eq!(response.status(), 404);
            Ok(())
        };
        serve_until(0, SampleApiConfig::default(), stop, output.clone())
            .await
            .unwrap();

        let text = output.text();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("sample API listening on http://127.0.0.1:"));
        let table = text.split_once("\n\n").unwrap().1;
        let expected = expected_hits(&[("health", 200, 3), ("not_found", 404, 1)]);
        assert_eq!(table, expected.to_string());
    }

    #[tokio::test]
    async fn serve_until_reports_a_failed_stop_signal() {
        let stop = async { Err(io::Error::other("no signals here")) };
        let error = serve_until(0, SampleApiConfig::default(), stop, io::sink())
            .await
            .unwrap_err();
        assert!(
            format!("{error:#}").contains("no signals here"),
            "{error:#}"
        );
    }
}
