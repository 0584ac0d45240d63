//! The recovery probe: after the load, one user sends the probe request every `interval`
//! until it meets its expectations `successes` times in a row (the target recovered) or
//! `timeout` passes. Its requests are not part of the load's statistics.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::transport::Transport;
use super::user::{Shared, User};
use crate::compile::RecoveryProbe;

/// What the recovery probe found after the load.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryOutcome {
    /// The probed request name.
    pub(crate) name: String,
    /// Consecutive good answers required.
    pub(crate) successes: u32,
    /// From the end of the load to the first of those good answers; `None` if the target
    /// did not recover before the probe's timeout.
    pub recovered_after: Option<Duration>,
    /// Probes sent.
    pub probes: u32,
}

/// Probes from `load_end`; `stop` (Ctrl-C) gives up at once.
pub(super) async fn probe<T: Transport>(
    shared: Arc<Shared<T>>,
    probe: &RecoveryProbe,
    load_end: Instant,
    stop: &CancellationToken,
) -> RecoveryOutcome {
    let mut user = User::new(shared, u64::MAX, probe.class);
    user.quiet = true;
    user.start().await;
    let mut outcome = RecoveryOutcome {
        name: probe.name.clone(),
        successes: probe.successes,
        recovered_after: None,
        probes: 0,
    };
    let mut streak: Option<(u32, Duration)> = None;
    while load_end.elapsed() < probe.timeout {
        let sent = Instant::now();
        let ok = user.request(probe.request).await;
        outcome.probes += 1;
        streak = match (ok, streak) {
            (false, _) => None,
            (true, None) => Some((1, load_end.elapsed())),
            (true, Some((n, first))) => Some((n + 1, first)),
        };
        if let Some((n, first)) = streak {
            if n >= probe.successes {
                outcome.recovered_after = Some(first);
                break;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep_until(sent + probe.interval) => {}
            _ = stop.cancelled() => break,
        }
    }
    outcome
}
