//! `Sample`: what the engine tells the recorder about one request, and `Event`, the
//! messages on the channel between them. Small and allocation-free on success.

use std::fmt;

use super::burst::BurstOutcome;
use super::inspect::Inspected;
use crate::compile::RequestNameId;

/// Where the engine sends its events.
pub type EventSender = tokio::sync::mpsc::UnboundedSender<Event>;

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
    /// TLS failed, and why (the server's certificate, a client certificate, the protocol).
    Tls(TlsFailure),
    /// The connection broke before the response head was complete.
    Connection,
    /// A kept-alive connection was closed by the server as a request that may not be
    /// resent (a POST) was sent on it: a race with the server's keep-alive timeout,
    /// counted under `connection`. `connection-idle` below that timeout avoids it.
    IdleConnectionClosed,
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
    /// planrun itself ran out of a resource (descriptors, local ports, buffers) before
    /// the request reached the target: not the target's fault, and the run is not
    /// trustworthy.
    LocalResources(LocalLimit),
}

/// Why TLS with the target failed, in words a tester acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsFailure {
    /// The server's certificate has expired, or is not valid yet.
    Expired,
    /// No trusted CA issued the server's certificate.
    UnknownIssuer,
    /// The server's certificate is for another name.
    NameMismatch,
    /// The server's certificate is unusable in another way.
    BadCertificate,
    /// The server refused planrun's client certificate, or wanted one.
    ClientCertificate,
    /// The server closed the connection during the handshake.
    Closed,
    /// Not TLS, or no version or cipher in common.
    Protocol,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsFailure::Expired => "the server's certificate has expired or is not valid yet",
            TlsFailure::UnknownIssuer => {
                "the server's certificate has an unknown issuer (trust its CA with `tls.ca-file`)"
            }
            TlsFailure::NameMismatch => {
                "the server's certificate is for another name (see `tls.server-name`)"
            }
            TlsFailure::BadCertificate => "the server's certificate is invalid",
            TlsFailure::ClientCertificate => {
                "the server refused the client certificate or wanted one (see `tls.client-cert`)"
            }
            TlsFailure::Closed => "the server closed the connection during the handshake",
            TlsFailure::Protocol => {
                "handshake failed: the server does not speak TLS, or shares no version or cipher with planrun"
            }
        })
    }
}

/// A resource of planrun's own machine that a request could not get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LocalLimit {
    /// The process's open-file limit (`EMFILE`).
    OpenFiles,
    /// The whole system's file table (`ENFILE`).
    SystemFiles,
    /// No free local port to connect from (`EADDRNOTAVAIL`).
    EphemeralPorts,
    /// The kernel's socket buffers or memory (`ENOBUFS`, `ENOMEM`).
    Buffers,
}

impl LocalLimit {
    /// The limit an I/O error says planrun hit, if it says one.
    pub(crate) fn from_io(error: &std::io::Error) -> Option<Self> {
        match error.raw_os_error()? {
            libc::EMFILE => Some(Self::OpenFiles),
            libc::ENFILE => Some(Self::SystemFiles),
            libc::EADDRNOTAVAIL => Some(Self::EphemeralPorts),
            libc::ENOBUFS | libc::ENOMEM => Some(Self::Buffers),
            _ => None,
        }
    }
}

impl fmt::Display for LocalLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LocalLimit::OpenFiles => {
                "planrun ran out of file descriptors (too many open files): raise its limit with `ulimit -n` before running"
            }
            LocalLimit::SystemFiles => {
                "the machine ran out of file descriptors (system file table full): raise `fs.file-max` (sysctl) or run fewer users"
            }
            LocalLimit::EphemeralPorts => {
                "planrun ran out of local ports to connect from: widen `net.ipv4.ip_local_port_range` (sysctl) or run fewer users"
            }
            LocalLimit::Buffers => {
                "the kernel ran out of socket buffers or memory on planrun's machine: free memory or run fewer users"
            }
        })
    }
}

impl Failure {
    /// Whether the request's time is a latency of the target: a response arrived (with
    /// any status, whatever the checks said of it), or the request waited its whole
    /// timeout (users waited that long; leaving it out would flatter a target that stops
    /// answering). A refusal, a reset, a DNS or TLS failure or a cancel measures how fast
    /// the failure came, not the target.
    pub(crate) fn has_response_time(&self) -> bool {
        match self {
            Failure::UnexpectedStatus(_)
            | Failure::Timeout
            | Failure::InvalidHttp
            | Failure::Body
            | Failure::Extract(_)
            | Failure::Check(_) => true,
            Failure::Connect
            | Failure::Dns
            | Failure::Tls(_)
            | Failure::Connection
            | Failure::IdleConnectionClosed
            | Failure::LocalResources(_)
            | Failure::Template(_)
            | Failure::Cancelled
            | Failure::Other(_) => false,
        }
    }

    /// A short category, stable for JSON consumers: `status`, `timeout`, `connect`, …
    pub(crate) fn category(&self) -> &'static str {
        match self {
            Failure::UnexpectedStatus(_) => "status",
            Failure::Timeout => "timeout",
            Failure::Connect => "connect",
            Failure::Dns => "dns",
            Failure::Tls(_) => "tls",
            Failure::Connection | Failure::IdleConnectionClosed => "connection",
            Failure::InvalidHttp => "invalid-http",
            Failure::Body => "body",
            Failure::Template(_) => "template",
            Failure::Cancelled => "cancelled",
            Failure::Extract(_) => "extract",
            Failure::Check(_) => "check",
            Failure::Other(_) => "other",
            Failure::LocalResources(_) => "local-resources",
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
            Failure::Tls(why) => write!(f, "TLS failed: {why}"),
            Failure::Connection => f.write_str("connection closed or reset"),
            Failure::IdleConnectionClosed => f.write_str(
                "the server closed an idle keep-alive connection as the request was sent",
            ),
            Failure::InvalidHttp => f.write_str("invalid HTTP response"),
            Failure::Body => f.write_str("response body cut short"),
            Failure::Template(message) => write!(f, "template error: {message}"),
            Failure::Cancelled => f.write_str("cancelled at stop"),
            Failure::Extract(message) => write!(f, "extract: {message}"),
            Failure::Check(name) => write!(f, "check failed: {name}"),
            Failure::Other(message) => f.write_str(message),
            Failure::LocalResources(limit) => limit.fmt(f),
        }
    }
}

/// One finished (or abandoned) request.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub(crate) name: RequestNameId,
    /// When the request was sent, from the start of the run.
    pub(crate) started_us: u64,
    /// From sending the request to the end of the response body: the service time.
    pub(crate) service_us: u64,
    /// How late the request was sent after the instant the schedule intended for it
    /// (open model; 0 in closed-model runs). The latency adds it.
    pub(crate) queued_us: u64,
    /// Response body bytes received.
    pub(crate) bytes: u64,
    pub(crate) failure: Option<Failure>,
    /// What the request's checks and outcomes found, when it has any.
    pub(crate) inspected: Option<Box<Inspected>>,
}

impl Sample {
    pub(crate) fn finished_us(&self) -> u64 {
        self.started_us + self.service_us
    }

    /// Latency, from the instant the schedule intended to the end of the response: what a
    /// user arriving then waited, and what SLOs judge (the service time plus the queueing
    /// that coordinated omission would hide).
    pub(crate) fn latency_us(&self) -> u64 {
        self.queued_us + self.service_us
    }
}

/// A step of a user whose `on-start` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStartEvent {
    /// `on-start` failed; `first` the first time for that user.
    Failed { first: bool },
    /// The user runs `on-start` again after a failure.
    Retried,
    /// The user stops after a failure (`on-start-failure: stop`).
    Stopped,
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
    /// A closed-model user's think-time timer fired: how long after the instant it was
    /// set for (a busy runtime or machine wakes users late, and they send less).
    Timer {
        late_us: u64,
    },
    /// Open-model arrivals that were due but dropped unsent, all at once: the dispatcher
    /// fell too far behind to send them on time, or the load ended before it reached them.
    ArrivalsDropped {
        count: u64,
    },
    /// A burst was released: `size` requests at once; their samples follow as usual.
    Burst(BurstOutcome),
    /// What a user whose `on-start` failed did.
    OnStart(OnStartEvent),
}
