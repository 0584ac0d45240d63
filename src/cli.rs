//! The command line (clap derive). `RunArgs` stays as typed by the user;
//! `RunArgs::into_options` is the one place flags become `RunOptions`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::RunOptions;
use crate::compile::Overrides;
use crate::report::Exports;
use crate::report::progress::ProgressMode;
use crate::sample_api::{ErrorWindow, OverlapStyle, SampleApiConfig, Stall};
use crate::units::{Rate, parse_duration, parse_percent};

/// Runs declarative HTTP load-test plans (YAML or TOML) and gates CI on their SLOs.
///
/// Exit codes: 0 every SLO passed (targets may have warned), 1 unexpected error, 2 usage
/// error, 3 invalid plan (nothing was sent), 4 a critical SLO failed, an `abort` SLO
/// stopped the run, or (with --strict) a target was missed, 5 the target did not answer
/// the preflight request, 130 interrupted (results still written).
#[derive(Debug, Parser)]
#[command(
    name = "planrun",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: Option<RunArgs>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a plan (the same as `planrun PLAN`).
    Run(RunArgs),
    /// Validate plans without sending traffic and print their compiled graphs.
    Check(CheckArgs),
    /// Serve the bundled sample API (the cabin-reservation backend the example plans target).
    SampleApi(SampleApiArgs),
    /// Render a run's reports again from its saved summary.json, without rerunning it.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Plan file, YAML or TOML.
    pub plan: PathBuf,
    /// Users at the peak (replaces the plan's stages with a ramp and a hold).
    #[arg(short = 'u', long)]
    pub users: Option<u32>,
    /// Users started per second while ramping, e.g. `10` or `10/s`.
    #[arg(short = 'r', long, value_parser = Rate::parse)]
    pub spawn_rate: Option<Rate>,
    /// Total run time, e.g. `30s`, `5m`, `1h`.
    #[arg(short = 't', long, value_parser = parse_duration)]
    pub run_time: Option<Duration>,
    /// Base URL of the target, over the plan's `host`.
    #[arg(long, env = "PLANRUN_HOST")]
    pub host: Option<String>,
    /// Override a plan value: `--set load.users=50`, `--set classes.A.weight=3`.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub sets: Vec<String>,
    /// Seed for every random choice, for a reproducible run.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Directory the run's report directory is created in.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Also write Locust-style CSV files PREFIX_stats.csv, PREFIX_stats_history.csv and
    /// PREFIX_failures.csv (replacing them if they exist, as Locust does).
    #[arg(long, value_name = "PREFIX")]
    pub csv: Option<PathBuf>,
    /// stats_history.csv gets a row per request name each second (percentiles over the
    /// last 10 s), before the Aggregated row, as Locust's --csv-full-history.
    #[arg(long)]
    pub csv_full_history: bool,
    /// Also write the HTML report to FILE (replacing it if it exists).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Start the bundled sample API on an ephemeral 127.0.0.1 port and run against it.
    #[arg(long)]
    pub sample_api: bool,
    /// With --sample-api: latency added to each response, e.g. `20ms`.
    #[arg(long, value_parser = parse_duration, default_value = "0s", requires = "sample_api")]
    pub sample_latency: Duration,
    /// With --sample-api: random extra latency up to this, e.g. `5ms`.
    #[arg(long, value_parser = parse_duration, default_value = "0s", requires = "sample_api")]
    pub sample_jitter: Duration,
    /// With --sample-api: share of responses that are injected 500s, e.g. `2%`.
    #[arg(long, value_parser = parse_percent, default_value = "0%", requires = "sample_api")]
    pub sample_error_rate: f64,
    /// With --sample-api: how a refused pre-reservation is answered (409, or 200 with an
    /// `error` field).
    #[arg(long, value_enum, default_value_t = OverlapStyle::Status, requires = "sample_api")]
    pub sample_overlap_style: OverlapStyle,
    /// With --sample-api: freeze for LENGTH once every EVERY, e.g. `1s/10s`.
    #[arg(long, value_name = "LENGTH/EVERY", value_parser = Stall::parse, requires = "sample_api")]
    pub sample_stall: Option<Stall>,
    /// With --sample-api: inject 500s at RATE between two instants, e.g. `20%@30s..60s`.
    #[arg(long, value_name = "RATE@FROM..TO", value_parser = ErrorWindow::parse, requires = "sample_api")]
    pub sample_error_window: Option<ErrorWindow>,
    /// Progress display.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    /// Skip the request that checks the target answers before the load starts.
    #[arg(long)]
    pub no_preflight: bool,
    /// A missed `target` SLO (WARN) fails the run with exit code 4, like a critical one.
    #[arg(long)]
    pub strict: bool,
    /// Worker threads driving the load. By default one when the plan offers at most
    /// 5,000 requests a second (cheaper per request), else one per core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

impl RunArgs {
    pub fn into_options(self) -> RunOptions {
        let secrets = SampleApiConfig::with_env_secrets();
        RunOptions {
            overrides: Overrides {
                host: self.host,
                users: self.users,
                spawn_rate: self.spawn_rate,
                run_time: self.run_time,
                seed: self.seed,
                ..Overrides::default()
            },
            sample_api: self.sample_api.then(|| SampleApiConfig {
                latency: self.sample_latency,
                jitter: self.sample_jitter,
                error_rate: self.sample_error_rate,
                seed: self.seed.unwrap_or(0),
                overlap_style: self.sample_overlap_style,
                stall: self.sample_stall,
                error_window: self.sample_error_window,
                ..secrets
            }),
            plan: self.plan,
            sets: self.sets,
            out: self.out,
            exports: Exports {
                csv_prefix: self.csv,
                csv_full_history: self.csv_full_history,
                html: self.html,
                // Set by GitHub Actions: Markdown appended to it shows on the run's page.
                step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                    .filter(|path| !path.is_empty())
                    .map(PathBuf::from),
            },
            progress: self.progress,
            preflight: !self.no_preflight,
            strict: self.strict,
            threads: self.threads.map(usize::from),
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Plan files to validate.
    #[arg(required = true)]
    pub plans: Vec<PathBuf>,
    /// Override plan values, as for a run.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory, or the summary.json in one.
    pub source: PathBuf,
    /// Write the files here (a new or empty directory) instead of beside the summary.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SampleApiArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Latency added to each response, e.g. `20ms`.
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    pub latency: Duration,
    /// Random extra latency up to this.
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    pub jitter: Duration,
    /// Share of responses that are injected 500s, e.g. `2%`.
    #[arg(long, value_parser = parse_percent, default_value = "0%")]
    pub error_rate: f64,
    /// Seed for jitter and error injection.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How a refused pre-reservation is answered (409, or 200 with an `error` field).
    #[arg(long, value_enum, default_value_t = OverlapStyle::Status)]
    pub overlap_style: OverlapStyle,
    /// Freeze for LENGTH once every EVERY, e.g. `1s/10s`.
    #[arg(long, value_name = "LENGTH/EVERY", value_parser = Stall::parse)]
    pub stall: Option<Stall>,
    /// Inject 500s at RATE between two instants after the start, e.g. `20%@30s..60s`.
    #[arg(long, value_name = "RATE@FROM..TO", value_parser = ErrorWindow::parse)]
    pub error_window: Option<ErrorWindow>,
}

impl SampleApiArgs {
    pub fn config(&self) -> SampleApiConfig {
        SampleApiConfig {
            latency: self.latency,
            jitter: self.jitter,
            error_rate: self.error_rate,
            seed: self.seed,
            overlap_style: self.overlap_style,
            stall: self.stall,
            error_window: self.error_window,
            ..SampleApiConfig::with_env_secrets()
        }
    }
}
