//! The sample API as a run's target (`planrun PLAN --sample-api`): started in one call on
//! its own runtime, so the run sees nothing but a URL (and, at the end, the server's own
//! counts to compare with). Its threads are not the load's: a run sizes its runtime as
//! for any other target.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use super::config::SampleApiConfig;
use super::hits::HitCounts;
use super::server::SampleApi;

/// A sample API serving on an ephemeral 127.0.0.1 port until dropped.
pub struct Target {
    url: String,
    env_defaults: Vec<(String, String)>,
    api: Option<SampleApi>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Target {
    /// Binds 127.0.0.1 on a free port and serves on a runtime of its own. Needs no
    /// runtime around it, and may be called inside one.
    pub(crate) fn start(config: SampleApiConfig) -> io::Result<Target> {
        let bound = SampleApi::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config)?;
        let url = bound.base_url()?;
        let env_defaults = bound.config().secret_env_defaults();
        // Two threads keep the server ahead of a one-thread load on the same machine
        // without taking every core from a load that uses them all.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sample-api")
            .enable_all()
            .build()?;
        let api = {
            let _inside = runtime.enter();
            bound.serve()?
        };
        Ok(Target {
            url,
            env_defaults,
            api: Some(api),
            runtime: Some(runtime),
        })
    }

    /// `http://127.0.0.1:PORT`: the host a plan runs against.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Environment defaults for a plan run against it: the webhook secrets it verifies
    /// signatures with, for the variables not set.
    pub(crate) fn env_defaults(&self) -> &[(String, String)] {
        &self.env_defaults
    }

    /// What it answered so far, per endpoint and status.
    pub(crate) fn hits(&self) -> HitCounts {
        self.api.as_ref().map(SampleApi::hits).unwrap_or_default()
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // Asks the server to stop, then lets its runtime go without waiting: dropping a
        // runtime blocks, which is not allowed inside the caller's own runtime.
        drop(self.api.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_and_counts_outside_any_runtime() {
        let target = Target::start(SampleApiConfig::default()).unwrap();
        assert!(target.url().starts_with("http://127.0.0.1:"));
        let address = target.url().trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        use std::io::{Read, Write};
        stream
            .write_all(b"GET /api/v1/healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(target.hits().count("health"), 1);
    }

    #[tokio::test]
    async fn starts_and_stops_inside_a_runtime() {
        let target = Target::start(SampleApiConfig::default()).unwrap();
        let names: Vec<&str> = target
            .env_defaults()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, ["WHATSAPP_APP_SECRET", "MERCADOPAGO_WEBHOOK_SECRET"]);
        drop(target);
    }
}
