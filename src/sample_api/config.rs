//! `SampleApiConfig`: how slow and how unreliable the sample API pretends to be.

use std::io;
use std::time::Duration;

use super::timed_faults::{ErrorWindow, Stall};

/// Behaviour knobs of the sample API. The default is an instant, never-failing server.
#[derive(Debug, Clone)]
pub struct SampleApiConfig {
    /// Fixed delay added before every counted response.
    pub latency: Duration,
    /// Upper bound of a uniform random extra delay, in `[0, jitter]`, on top of `latency`.
    pub jitter: Duration,
    /// Probability (`0.0..=1.0`) of answering 500 `{"error":"injected"}` instead of the
    /// normal answer.
    pub error_rate: f64,
    /// Seeds the randomness used for jitter, error injection and reservation codes.
    pub seed: u64,
    /// Freeze every counted endpoint for a while, periodically (`1s/10s`).
    pub stall: Option<Stall>,
    /// Inject 500s at a rate between two instants after the start (`20%@30s..60s`).
    pub error_window: Option<ErrorWindow>,
}

impl Default for SampleApiConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            seed: 0,
            stall: None,
            error_window: None,
        }
    }
}

impl SampleApiConfig {
    /// Rejects an `error_rate` that is not a probability (including NaN).
    pub(crate) fn validate(&self) -> io::Result<()> {
        if (0.0..=1.0).contains(&self.error_rate) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "sample API error_rate must be within 0.0..=1.0, got {}",
                    self.error_rate
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_instant_and_reliable() {
        let config = SampleApiConfig::default();
        assert_eq!(config.latency, Duration::ZERO);
        assert_eq!(config.jitter, Duration::ZERO);
        assert_eq!(config.error_rate, 0.0);
        assert_eq!(config.seed, 0);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn validate_accepts_probabilities_only() {
        for rate in [0.0, 0.25, 1.0] {
            let config = SampleApiConfig {
                error_rate: rate,
                ..SampleApiConfig::default()
            };
            assert!(config.validate().is_ok(), "{rate}");
        }
        for rate in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            let config = SampleApiConfig {
                error_rate: rate,
                ..SampleApiConfig::default()
            };
            let error = config.validate().unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{rate}");
        }
    }
}
