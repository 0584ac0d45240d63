//! `Sample`: what the engine tells the recorder about one request, and `Event`, the
//! messages on the channel between them. Small and allocation-free on success.

use std::fmt;

use super::business::Inspected;
use super::honesty::BurstOutcome;
use crate::compile::MetricId;

/// Why a request failed. A failing target is data: every kind is counted and reported.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Failure {
    /// The response arrived with a status the request does not accept.
    UnexpectedStatus(u16),
    /// No complete response within the request's timeout.
    Timeout,
    /// The connection could not be made (refused, unreachable).
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (bad certificate, not TLS at all).
    Tls,
    /// The connection broke before the response head was complete.
    Connection,
    /// The response head is not valid HTTP/1.x.
    InvalidHttp,
    /// The response body ended before its declared length or last chunk.
    Body,
    /// A template failed to render at run time (e.g. `choice()` of an empty list).
    Template(String),
    /// Still in flight when the grace period ran out, or at a second Ctrl-C.
    Cancelled,
    /// A value to extract was not in the response.
    Extract(String),
    /// A check marked to fail its request did not hold: its name, and a note when the
    /// body it looked at was cut at `max-body`.
    Check(String),
    /// Anything else the HTTP client reports, with its message.
    Other(String),
}

impl Failure {
    /// A short category, stable for JSON consumers: `status`, `timeout`, `connect`, …
    pub fn category(&self) -> &'static str {
        match self {
            Failure::UnexpectedStatus(_) => "status",
            Failure::Timeout => "timeout",
            Failure::Connect => "connect",
            Failure::Dns => "dns",
            Failure::Tls => "tls",
            Failure::Connection => "connection",
            Failure::InvalidHttp => "invalid-http",
            Failure::Body => "body",
            Failure::Template(_) => "template",
            Failure::Cancelled => "cancelled",
            Failure::Extract(_) => "extract",
            Failure::Check(_) => "check",
            Failure::Other(_) => "other",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::UnexpectedStatus(status) => write!(f, "unexpected status {status}"),
            Failure::Timeout => f.write_str("timeout"),
            Failure::Connect => f.write_str("connection refused or unreachable"),
            Failure::Dns => f.write_str("host name did not resolve"),
            Failure::Tls => f.write_str("TLS handshake failed"),
            Failure::Connection => f.write_str("connection closed or reset"),
            Failure::InvalidHttp => f.write_str("invalid HTTP response"),
            Failure::Body => f.write_str("response body cut short"),
            Failure::Template(message) => write!(f, "template error: {message}"),
            Failure::Cancelled => f.write_str("cancelled at stop"),
            Failure::Extract(message) => write!(f, "extract: {message}"),
            Failure::Check(name) => write!(f, "check failed: {name}"),
            Failure::Other(message) => f.write_str(message),
        }
    }
}

/// One finished (or abandoned) request.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub metric: MetricId,
    /// When the request was sent, from the start of the run.
    pub started_us: u64,
    /// From sending the request to the end of the response body: the service time.
    pub latency_us: u64,
    /// How late the request was sent after the instant the schedule intended for it
    /// (open model; 0 in closed-model runs). The corrected latency adds it.
    pub queued_us: u64,
    /// Response body bytes received.
    pub bytes: u64,
    pub failure: Option<Failure>,
    /// What the request's checks and outcomes found, when it has any.
    pub inspected: Option<Box<Inspected>>,
}

impl Sample {
    pub fn finished_us(&self) -> u64 {
        self.started_us + self.latency_us
    }

    /// Latency from the intended send instant: what a user arriving then waited.
    pub fn corrected_latency_us(&self) -> u64 {
        self.queued_us + self.latency_us
    }
}

/// A message from the engine to the recorder.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Sample(Sample),
    /// The number of running users changed.
    Users {
        active: u32,
    },
    /// An open-model arrival was due: how late the scheduler dispatched it, and whether
    /// it was dropped because `max-in-flight` arrivals were already running.
    Arrival {
        lag_us: u64,
        dropped: bool,
    },
    /// Open-model arrivals that were due but dropped unsent, all at once: the dispatcher
    /// fell too far behind to send them on time, or the load ended before it reached them.
    ArrivalsDropped {
        count: u64,
    },
    /// A burst was released: `size` requests at once; their samples follow as usual.
    Burst(BurstOutcome),
}
