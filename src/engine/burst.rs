//! Bursts: `size` copies of a request released at the same instant, each by its own user
//! (own connection, as the seed's `asyncio.gather` of 100 pre-reservations), reporting
//! how many succeeded and how spread their latencies were.

use std::sync::Arc;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::sample::Event;
use super::transport::Transport;
use super::user::{Shared, User};
use crate::compile::Burst;
use crate::units::new_histogram;

/// What a burst did.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstOutcome {
    /// The request name.
    pub(crate) name: String,
    /// When it was released, from the start of the run.
    pub at_us: u64,
    pub size: u32,
    /// Requests answered with an accepted status.
    pub succeeded: u32,
    /// Fastest, median and slowest latency of the burst's requests, in microseconds.
    pub fastest_us: u64,
    pub(crate) median_us: u64,
    pub slowest_us: u64,
}

/// Burst users' ids start here, far from the load's users.
const FIRST_BURST_USER: u64 = 1 << 40;

/// Waits for the burst's instant (unless the load ends first), then releases it.
pub(super) async fn release<T: Transport>(
    shared: Arc<Shared<T>>,
    burst: Burst,
    first_user: u64,
    load_over: CancellationToken,
) {
    tokio::select! {
        _ = tokio::time::sleep_until(shared.run_start + burst.at) => {}
        _ = load_over.cancelled() => return,
    }
    // Users (sessions, `on-start`) are made ready first, so that their setup does not
    // stagger the release.
    let mut users = Vec::with_capacity(burst.size as usize);
    for i in 0..u64::from(burst.size) {
        let mut user = User::new(
            shared.clone(),
            FIRST_BURST_USER + first_user + i,
            burst.class,
        );
        user.start().await;
        users.push(user);
    }
    let released = Instant::now();
    let mut requests = JoinSet::new();
    for mut user in users {
        let request = burst.request;
        requests.spawn(async move {
            user.intended = Some(released);
            let succeeded = user.request(request).await;
            (succeeded, released.elapsed())
        });
    }
    let mut latency = new_histogram();
    let mut succeeded = 0;
    while let Some(joined) = requests.join_next().await {
        if let Ok((ok, took)) = joined {
            succeeded += u32::from(ok);
            latency.saturating_record(took.as_micros() as u64);
        }
    }
    let _ = shared.events.send(Event::Burst(BurstOutcome {
        name: burst.name,
        at_us: released
            .saturating_duration_since(shared.run_start)
            .as_micros() as u64,
        size: burst.size,
        succeeded,
        fastest_us: latency.min(),
        median_us: latency.value_at_quantile(0.5),
        slowest_us: latency.max(),
    }));
}
