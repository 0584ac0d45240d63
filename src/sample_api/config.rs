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
    /// How a pre-reservation that cannot be taken is answered.
    pub overlap_style: OverlapStyle,
    /// The WhatsApp app secret webhooks are signed with.
    pub whatsapp_secret: String,
    /// The Mercado Pago webhook secret notifications are signed with.
    pub mercadopago_secret: String,
    /// Freeze every counted endpoint for a while, periodically (`1s/10s`).
    pub stall: Option<Stall>,
    /// Inject 500s at a rate between two instants after the start (`20%@30s..60s`).
    pub error_window: Option<ErrorWindow>,
}

/// How the pre-reserve endpoint says no, as the two styles of real backends do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OverlapStyle {
    /// 409 `{"error":"date_overlap"}`.
    #[default]
    Status,
    /// 200 `{"error":"date_overlap"}`, or 200 `{"error":"processing_or_unavailable"}`
    /// when another request holds the accommodation's calendar.
    Body,
}

/// The secrets the sample API verifies webhooks with unless told others; with
/// `--sample-api` they are what `env.WHATSAPP_APP_SECRET` and
/// `env.MERCADOPAGO_WEBHOOK_SECRET` default to.
pub const SAMPLE_WHATSAPP_SECRET: &str = "sample-whatsapp-app-secret";
pub const SAMPLE_MERCADOPAGO_SECRET: &str = "sample-mercadopago-webhook-secret";

impl Default for SampleApiConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            seed: 0,
            overlap_style: OverlapStyle::Status,
            whatsapp_secret: SAMPLE_WHATSAPP_SECRET.to_owned(),
            mercadopago_secret: SAMPLE_MERCADOPAGO_SECRET.to_owned(),
            stall: None,
            error_window: None,
        }
    }
}

/// The environment variables plans read the webhook secrets from.
pub const WHATSAPP_SECRET_ENV: &str = "WHATSAPP_APP_SECRET";
pub const MERCADOPAGO_SECRET_ENV: &str = "MERCADOPAGO_WEBHOOK_SECRET";

impl SampleApiConfig {
    /// The configured secrets as values for those variables.
    pub fn secret_env_defaults(&self) -> Vec<(String, String)> {
        vec![
            (WHATSAPP_SECRET_ENV.to_owned(), self.whatsapp_secret.clone()),
            (
                MERCADOPAGO_SECRET_ENV.to_owned(),
                self.mercadopago_secret.clone(),
            ),
        ]
    }

    /// The defaults with the secrets taken from the environment where set.
    pub(crate) fn with_env_secrets() -> Self {
        let read =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        Self {
            whatsapp_secret: read(WHATSAPP_SECRET_ENV, SAMPLE_WHATSAPP_SECRET),
            mercadopago_secret: read(MERCADOPAGO_SECRET_ENV, SAMPLE_MERCADOPAGO_SECRET),
            ..Self::default()
        }
    }

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
