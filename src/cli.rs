//! The command line (clap derive). `RunArgs` stays as typed by the user;
//! `RunArgs::into_options` is the one place flags become `RunOptions`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand};

use crate::RunOptions;
use crate::compile::{Overrides, REDACTED, is_credential_header};
use crate::report::Exports;
use crate::report::progress::ProgressMode;
use crate::sample_api::{RunFlags, SampleApiConfig, ServeFlags};
use crate::units::{Rate, parse_duration, suggest_duration};

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

/// Flags that change the plan, for a run and for `check` alike. They edit the plan's
/// values (`compile::Overrides::edits`), so the plan's own limits judge them.
#[derive(Debug, Args)]
pub struct PlanFlags {
    /// Users at the peak (replaces the plan's stages with a ramp and a hold).
    #[arg(short = 'u', long)]
    pub(crate) users: Option<u32>,
    /// Users started per second while ramping, e.g. `10` or `10/s`.
    #[arg(short = 'r', long, value_parser = Rate::parse)]
    pub(crate) spawn_rate: Option<Rate>,
    /// Total run time, e.g. `30s`, `5m`, `1h`.
    #[arg(short = 't', long, value_parser = parse_run_time)]
    pub(crate) run_time: Option<Duration>,
    /// Base URL of the target, over the plan's `host` [env: PLANRUN_HOST].
    #[arg(long)]
    pub(crate) host: Option<String>,
    /// Override a plan value: `--set load.users=50`, `--set classes.A.weight=3`.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub sets: Vec<String>,
    /// Seed for every random choice, for a reproducible run.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
}

impl PlanFlags {
    /// The flags as `Overrides`; `--host`, else a non-empty `PLANRUN_HOST`. (Not clap's
    /// `env`: a value from the environment made clap see a run's arguments beside every
    /// subcommand.)
    pub fn overrides(&self) -> Overrides {
        let env_host = std::env::var("PLANRUN_HOST")
            .ok()
            .filter(|host| !host.is_empty());
        let (host, host_from) = match (&self.host, env_host) {
            (Some(host), _) => (Some(host.clone()), None),
            (None, Some(host)) => (Some(host), Some("PLANRUN_HOST".to_owned())),
            (None, None) => (None, None),
        };
        Overrides {
            host,
            host_from,
            users: self.users,
            spawn_rate: self.spawn_rate,
            run_time: self.run_time,
            seed: self.seed,
            ..Overrides::default()
        }
    }
}

/// `-t`: a duration, with the likely unit suggested when it has none (`-t 5`).
fn parse_run_time(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|message| match suggest_duration(text) {
        Some(meant) => format!("{message}; did you mean `{meant}`?"),
        None => message,
    })
}

/// A run's arguments: the plan and the run's own flags (`RunCore`), the flags that change
/// the plan (`PlanFlags`, shared with `check`) and the sample API's (`RunFlags`, shared
/// with `planrun sample-api`). Put together by hand, not derived: clap's derive does not
/// see a run's arguments through a group flattened inside this optional one.
#[derive(Debug)]
pub struct RunArgs {
    pub core: RunCore,
    pub(crate) plan_flags: PlanFlags,
    pub(crate) sample: RunFlags,
}

impl Args for RunArgs {
    fn group_id() -> Option<clap::Id> {
        // The plan is required and in this group: a run is present exactly when it is.
        RunCore::group_id()
    }
    fn augment_args(command: clap::Command) -> clap::Command {
        RunFlags::augment_args(PlanFlags::augment_args(RunCore::augment_args(command)))
    }
    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        let command = RunCore::augment_args_for_update(command);
        RunFlags::augment_args_for_update(PlanFlags::augment_args_for_update(command))
    }
}

impl FromArgMatches for RunArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self {
            core: RunCore::from_arg_matches(matches)?,
            plan_flags: PlanFlags::from_arg_matches(matches)?,
            sample: RunFlags::from_arg_matches(matches)?,
        })
    }
    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.core.update_from_arg_matches(matches)?;
        self.plan_flags.update_from_arg_matches(matches)?;
        self.sample.update_from_arg_matches(matches)
    }
}

/// A run's own arguments: the plan, where its reports go, how it runs.
#[derive(Debug, Args)]
pub struct RunCore {
    /// Plan file, YAML or TOML.
    pub plan: PathBuf,
    /// Directory the run's report directory is created in.
    #[arg(long, default_value = "reports")]
    pub(crate) out: PathBuf,
    /// Also write Locust-style CSV files PREFIX_stats.csv, PREFIX_stats_history.csv and
    /// PREFIX_failures.csv (replacing them if they exist, as Locust does).
    #[arg(long, value_name = "PREFIX")]
    pub(crate) csv: Option<PathBuf>,
    /// stats_history.csv gets a row per request name each second (percentiles over the
    /// last 10 s), before the Aggregated row, as Locust's --csv-full-history.
    #[arg(long)]
    pub(crate) csv_full_history: bool,
    /// Also write the HTML report to FILE (replacing it if it exists).
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,
    /// Start the bundled sample API on an ephemeral 127.0.0.1 port and run against it.
    #[arg(long)]
    pub(crate) sample_api: bool,
    /// Progress display.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub(crate) progress: ProgressMode,
    /// Skip the request that checks the target answers before the load starts.
    #[arg(long)]
    pub(crate) no_preflight: bool,
    /// A missed `target` SLO (WARN) fails the run with exit code 4, like a critical one.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Worker threads driving the load. By default one when the plan offers at most
    /// 5,000 requests a second (cheaper per request), else one per core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) threads: Option<u16>,
}

impl RunArgs {
    pub fn into_options(self) -> RunOptions {
        let RunArgs {
            core,
            plan_flags,
            sample,
        } = self;
        RunOptions {
            overrides: Overrides {
                command: Some(command_line(std::env::args_os())),
                ..plan_flags.overrides()
            },
            sample_api: core
                .sample_api
                .then(|| sample.0.config(plan_flags.seed.unwrap_or(0))),
            plan: core.plan,
            sets: plan_flags.sets,
            out: core.out,
            exports: Exports {
                csv_prefix: core.csv,
                csv_full_history: core.csv_full_history,
                html: core.html,
                // Set by GitHub Actions: Markdown appended to it shows on the run's page.
                step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                    .filter(|path| !path.is_empty())
                    .map(PathBuf::from),
            },
            progress: core.progress,
            preflight: !core.no_preflight,
            strict: core.strict,
            threads: core.threads.map(usize::from),
        }
    }
}

/// The command line as typed, for the reports: each argument quoted for a POSIX shell,
/// the program named `planrun`, credentials in URLs and credential headers hidden.
pub(crate) fn command_line(args: impl IntoIterator<Item = OsString>) -> String {
    let mut words = vec!["planrun".to_owned()];
    let mut after_set = false;
    for arg in args.into_iter().skip(1) {
        let arg = arg.to_string_lossy().into_owned();
        let hidden = hide_credentials(&arg, after_set);
        after_set = arg == "--set";
        words.push(shell_quoted(&hidden));
    }
    words.join(" ")
}

/// `http://user:pw@host` without its user info; a `--set` of a credential header
/// (`headers.Authorization=…`) without its value.
fn hide_credentials(arg: &str, is_set_value: bool) -> String {
    let set = arg.strip_prefix("--set=").or(is_set_value.then_some(arg));
    if let Some((path, _)) = set.and_then(|s| s.split_once('=')) {
        let header = path.rsplit('.').next().unwrap_or_default();
        if path.contains("headers") && is_credential_header(header) {
            let prefix = if arg.starts_with("--set=") {
                "--set="
            } else {
                ""
            };
            return format!("{prefix}{path}={REDACTED}");
        }
    }
    match arg.find("://") {
        Some(scheme_end) => {
            let rest = &arg[scheme_end + 3..];
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{}{REDACTED}{}", &arg[..scheme_end + 3], &rest[at..]),
                None => arg.to_owned(),
            }
        }
        None => arg.to_owned(),
    }
}

/// `arg` as a POSIX shell reads it back: bare when it is made of safe characters, else
/// in single quotes.
fn shell_quoted(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Plan files to validate.
    #[arg(required = true)]
    pub plans: Vec<PathBuf>,
    /// The run's flags, so CI can check the command line it will run.
    #[command(flatten)]
    pub flags: PlanFlags,
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
    /// Seed for jitter and error injection.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    #[command(flatten)]
    pub(crate) behaviour: ServeFlags,
}

impl SampleApiArgs {
    pub fn config(&self) -> SampleApiConfig {
        self.behaviour.0.config(self.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&str]) -> String {
        command_line(args.iter().map(OsString::from))
    }

    #[test]
    fn the_command_line_reads_back_in_a_shell_without_credentials() {
        assert_eq!(
            line(&[
                "/x/target/planrun",
                "plans/peak.yaml",
                "-u",
                "50",
                "-t",
                "30s"
            ]),
            "planrun plans/peak.yaml -u 50 -t 30s"
        );
        assert_eq!(
            line(&[
                "planrun",
                "p.yaml",
                "--set",
                "classes.A.think-time=between 1s 2s"
            ]),
            "planrun p.yaml --set 'classes.A.think-time=between 1s 2s'"
        );
        assert_eq!(line(&["planrun", "it's"]), r"planrun 'it'\''s'");
        assert_eq!(
            line(&["planrun", "p.yaml", "--host", "http://user:pw@h:80/x"]),
            "planrun p.yaml --host 'http://[redacted]@h:80/x'"
        );
        assert_eq!(
            line(&[
                "planrun",
                "p.yaml",
                "--set",
                "headers.Authorization=Bearer x"
            ]),
            "planrun p.yaml --set 'headers.Authorization=[redacted]'"
        );
        assert_eq!(
            line(&["planrun", "p.yaml", "--set=classes.A.headers.cookie=s=1"]),
            "planrun p.yaml '--set=classes.A.headers.cookie=[redacted]'"
        );
    }

    #[test]
    fn a_run_time_without_a_unit_gets_a_hint() {
        let message = parse_run_time("5").unwrap_err();
        assert!(message.ends_with("did you mean `5s`?"), "{message}");
        assert_eq!(parse_run_time("5m"), Ok(Duration::from_secs(300)));
    }
}
