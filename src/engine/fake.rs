//! `FakeTransport`: answers after a fixed (virtual) delay with a status chosen per
//! request, and counts what it was sent. With tokio's paused clock, engine tests get
//! exact counts in milliseconds of real time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::sample::Failure;
use super::transport::{OutgoingRequest, Response, Session, Transport};

type Responder = dyn Fn(&OutgoingRequest) -> Result<u16, Failure> + Send + Sync;

/// A transport that never touches the network.
#[derive(Clone)]
pub struct FakeTransport {
    delay: Duration,
    respond: Arc<Responder>,
    sent: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl FakeTransport {
    /// Every request gets a 200 after `delay`.
    pub fn ok_after(delay: Duration) -> Self {
        Self::new(delay, |_| Ok(200))
    }

    /// Every request gets `respond(request)` after `delay`.
    pub fn new(
        delay: Duration,
        respond: impl Fn(&OutgoingRequest) -> Result<u16, Failure> + Send + Sync + 'static,
    ) -> Self {
        Self {
            delay,
            respond: Arc::new(respond),
            sent: Arc::default(),
        }
    }

    /// Requests sent so far, by `METHOD path`.
    pub fn sent(&self) -> BTreeMap<String, u64> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Transport for FakeTransport {
    type Session = FakeTransport;

    fn session(&self) -> FakeTransport {
        self.clone()
    }
}

impl Session for FakeTransport {
    async fn send(&mut self, request: OutgoingRequest) -> Result<Response, Failure> {
        let key = format!("{} {}", request.method, request.url.path());
        *self
            .sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += 1;
        tokio::time::sleep(self.delay).await;
        let status = (self.respond)(&request)?;
        Ok(Response {
            status,
            bytes: 2,
            ..Response::default()
        })
    }
}
