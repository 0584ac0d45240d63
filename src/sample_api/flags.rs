//! The sample API's behaviour flags, declared once for both places they appear:
//! `planrun sample-api --latency 20ms` and `planrun PLAN --sample-api --sample-latency
//! 20ms` are the same flags, the second spelled with a `sample-` prefix and meaningful
//! only with `--sample-api`.

use std::time::Duration;

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches, value_parser};

use super::config::{OverlapStyle, SampleApiConfig};
use super::timed_faults::{ErrorWindow, Stall};
use crate::units::{parse_duration, parse_percent};

/// How the sample API misbehaves on purpose.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Behaviour {
    pub(crate) latency: Duration,
    pub(crate) jitter: Duration,
    pub(crate) error_rate: f64,
    pub(crate) overlap_style: OverlapStyle,
    pub(crate) stall: Option<Stall>,
    pub(crate) error_window: Option<ErrorWindow>,
}

impl Behaviour {
    /// The server's configuration: this behaviour, `seed`, and the webhook secrets from
    /// the environment where set.
    pub(crate) fn config(&self, seed: u64) -> SampleApiConfig {
        SampleApiConfig {
            latency: self.latency,
            jitter: self.jitter,
            error_rate: self.error_rate,
            seed,
            overlap_style: self.overlap_style,
            stall: self.stall,
            error_window: self.error_window,
            ..SampleApiConfig::with_env_secrets()
        }
    }

    fn from_matches(matches: &ArgMatches) -> Self {
        // Every flag has a default or is optional, so a missing value is `None` only for
        // the optional ones.
        let duration = |id: &str| matches.get_one::<Duration>(id).copied().unwrap_or_default();
        Self {
            latency: duration(LATENCY),
            jitter: duration(JITTER),
            error_rate: matches.get_one::<f64>(ERROR_RATE).copied().unwrap_or(0.0),
            overlap_style: matches
                .get_one::<OverlapStyle>(OVERLAP_STYLE)
                .copied()
                .unwrap_or_default(),
            stall: matches.get_one::<Stall>(STALL).copied(),
            error_window: matches.get_one::<ErrorWindow>(ERROR_WINDOW).copied(),
        }
    }
}

const LATENCY: &str = "sample_latency";
const JITTER: &str = "sample_jitter";
const ERROR_RATE: &str = "sample_error_rate";
const OVERLAP_STYLE: &str = "sample_overlap_style";
const STALL: &str = "sample_stall";
const ERROR_WINDOW: &str = "sample_error_window";

/// The flags, named `--latency` … or, `prefixed`, `--sample-latency` … (which then need
/// `--sample-api`).
fn flags(prefixed: bool) -> Vec<Arg> {
    let long = |plain: &'static str, with_prefix: &'static str| {
        if prefixed { with_prefix } else { plain }
    };
    let flags = [
        Arg::new(LATENCY)
            .long(long("latency", "sample-latency"))
            .value_name("DURATION")
            .value_parser(parse_duration)
            .default_value("0s")
            .help("Latency added to each response, e.g. `20ms`"),
        Arg::new(JITTER)
            .long(long("jitter", "sample-jitter"))
            .value_name("DURATION")
            .value_parser(parse_duration)
            .default_value("0s")
            .help("Random extra latency up to this, e.g. `5ms`"),
        Arg::new(ERROR_RATE)
            .long(long("error-rate", "sample-error-rate"))
            .value_name("PERCENT")
            .value_parser(parse_percent)
            .default_value("0%")
            .help("Share of responses that are injected 500s, e.g. `2%`"),
        Arg::new(OVERLAP_STYLE)
            .long(long("overlap-style", "sample-overlap-style"))
            .value_name("STYLE")
            .value_parser(value_parser!(OverlapStyle))
            .default_value("status")
            .help("How a refused pre-reservation is answered (409, or 200 with an `error` field)"),
        Arg::new(STALL)
            .long(long("stall", "sample-stall"))
            .value_name("LENGTH/EVERY")
            .value_parser(Stall::parse)
            .help("Freeze for LENGTH once every EVERY, e.g. `1s/10s`"),
        Arg::new(ERROR_WINDOW)
            .long(long("error-window", "sample-error-window"))
            .value_name("RATE@FROM..TO")
            .value_parser(ErrorWindow::parse)
            .help("Inject 500s at RATE between two instants after the start, e.g. `20%@30s..60s`"),
    ];
    if prefixed {
        flags
            .into_iter()
            .map(|flag| {
                flag.requires("sample_api")
                    .help_heading("Sample API (with --sample-api)")
            })
            .collect()
    } else {
        flags.to_vec()
    }
}

/// The flags as `planrun sample-api` takes them: `--latency`, `--stall`, ….
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ServeFlags(pub(crate) Behaviour);

/// The flags as a run takes them: `--sample-latency`, `--sample-stall`, …, each needing
/// `--sample-api`.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RunFlags(pub(crate) Behaviour);

macro_rules! behaviour_args {
    ($flags:ident, $prefixed:expr) => {
        impl Args for $flags {
            fn augment_args(command: Command) -> Command {
                command.args(flags($prefixed))
            }
            fn augment_args_for_update(command: Command) -> Command {
                command.args(flags($prefixed))
            }
        }

        impl FromArgMatches for $flags {
            fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
                Ok(Self(Behaviour::from_matches(matches)))
            }
            fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
                self.0 = Behaviour::from_matches(matches);
                Ok(())
            }
        }
    };
}

behaviour_args!(ServeFlags, false);
behaviour_args!(RunFlags, true);

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Serve {
        #[command(flatten)]
        flags: ServeFlags,
    }

    #[derive(Debug, Parser)]
    struct Run {
        #[arg(long)]
        sample_api: bool,
        #[command(flatten)]
        flags: RunFlags,
    }

    #[test]
    fn both_spellings_give_the_same_behaviour() {
        let serve = Serve::try_parse_from([
            "x",
            "--latency",
            "20ms",
            "--error-rate",
            "2%",
            "--stall",
            "1s/10s",
        ])
        .unwrap();
        let run = Run::try_parse_from([
            "x",
            "--sample-api",
            "--sample-latency",
            "20ms",
            "--sample-error-rate",
            "2%",
            "--sample-stall",
            "1s/10s",
        ])
        .unwrap();
        assert_eq!(serve.flags.0, run.flags.0);
        assert_eq!(serve.flags.0.latency, Duration::from_millis(20));
        assert!((serve.flags.0.error_rate - 0.02).abs() < 1e-12);
        assert!(serve.flags.0.stall.is_some());
    }

    #[test]
    fn defaults_are_an_instant_reliable_server() {
        let serve = Serve::try_parse_from(["x"]).unwrap();
        assert_eq!(serve.flags.0, Behaviour::default());
    }

    #[test]
    fn a_run_flag_needs_the_sample_api() {
        let error = Run::try_parse_from(["x", "--sample-jitter", "5ms"]).unwrap_err();
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }
}
