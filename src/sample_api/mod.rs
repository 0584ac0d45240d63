//! The bundled sample API: a small HTTP server that mimics a cabin-reservation backend,
//! so that every load-test plan can be demonstrated and tested without an external server.
//!
//! Input: HTTP/1 requests on a loopback address (never `0.0.0.0`). Output: JSON answers,
//! plus a count of every answer per endpoint and status, readable through
//! [`SampleApi::hits`] or `GET /__planrun/hits`.
//!
//! Endpoints (the id under which each is counted in parentheses):
//! - `GET /api/v1/healthz` (`health`)
//! - `GET /api/v1/accommodations` (`list_accommodations`): ten cabins, ids 1..=10
//! - `GET /api/v1/accommodations/{id}/availability?check_in=&check_out=` (`availability`)
//! - `POST /api/v1/reservations/prereserve` (`prereserve`): 201 with a code; on overlap
//!   409, or 200 `{"error":"date_overlap"}` with `OverlapStyle::Body`
//! - `POST /api/v1/auth/login` (`login`): a bearer token
//! - `POST /api/v1/reservations/{code}/confirm` (`confirm`) and `…/cancel` (`cancel`):
//!   need the token; cancelling frees the dates
//! - `POST /api/v1/webhooks/whatsapp` (`whatsapp_webhook`) and
//!   `POST /api/v1/webhooks/mercadopago` (`mercadopago_webhook`): 403 unless signed as
//!   the real senders sign (see `signatures`)
//! - business events (`prereserve.created`, `prereserve.overlap`, `prereserve.locked`,
//!   `login.ok`, `auth.rejected`, `confirm.ok`, `cancel.ok`, `*.signature_ok`,
//!   `*.signature_rejected`) are counted beside the hits
//! - anything else, including a wrong method on a known path (`not_found`)
//! - `GET /__planrun/hits`: the counts as JSON; not counted, never delayed
//!
//! Invariants:
//! - every counted endpoint waits `latency` plus up to `jitter` (and, with a `stall`, for
//!   the current freeze to end), then answers 500 `{"error":"injected"}` with probability
//!   `error_rate` (or the `error_window`'s rate inside it), else normally;
//! - every answer of a counted endpoint (errors included) is counted exactly once, before
//!   it is sent, so a client that has its answer will see it in the counts;
//! - the stays of one accommodation never overlap (`[check_in, check_out)`), and the
//!   server keeps nothing per request beyond the stays it accepted.

mod accommodations;
mod auth;
mod booking;
mod chaos;
mod config;
mod endpoint;
mod flags;
mod hit_counter;
mod hits;
mod reservations;
mod responses;
mod routes;
mod server;
mod signatures;
mod stay_dates;
mod target;
#[cfg(test)]
mod test_support;
mod timed_faults;
mod webhooks;

pub use config::{
    MERCADOPAGO_SECRET_ENV, OverlapStyle, SAMPLE_MERCADOPAGO_SECRET, SAMPLE_WHATSAPP_SECRET,
    SampleApiConfig, WHATSAPP_SECRET_ENV,
};
pub(crate) use flags::{RunFlags, ServeFlags};
pub(crate) use hits::HitCounts;
pub use server::{SampleApi, serve_until_ctrl_c};
pub use target::Target;
pub use timed_faults::{ErrorWindow, Stall};
