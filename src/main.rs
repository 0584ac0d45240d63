//! The `planrun` binary: parse the command line, build the runtime, call the library,
//! map the outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use planrun::cli::{CheckArgs, Cli, Command, ReportArgs, RunArgs};
use planrun::engine::StopSignal;
use planrun::error::Error;
use planrun::{exit_code, report};

fn main() -> ExitCode {
    // Each user holds a socket: a soft limit of 1,024 would fail users 1,000 and up.
    planrun::engine::raise_open_file_limit();
    let cli = Cli::parse();
    let code = match (cli.command, cli.run) {
        (Some(Command::Run(args)), _) | (None, Some(args)) => run(args),
        (Some(Command::Check(args)), _) => check(args),
        (Some(Command::Report(args)), _) => rerender(args),
        (Some(Command::SampleApi(args)), _) => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let served = runtime(cores).map(|runtime| {
                runtime.block_on(planrun::sample_api::serve_until_ctrl_c(
                    args.port,
                    args.config(),
                ))
            });
            match served {
                Some(Ok(())) => exit_code::OK,
                Some(Err(e)) => {
                    warn(&format!("error: {e:#}\n"));
                    exit_code::ERROR
                }
                None => exit_code::ERROR,
            }
        }
        (None, None) => {
            warn("usage: planrun PLAN [OPTIONS]  (see `planrun --help`)\n");
            exit_code::USAGE
        }
    };
    ExitCode::from(code)
}

/// Writes to stdout. A closed or full stdout (`| head -1`, `> /dev/full`) ends the output
/// quietly: the exit code stays the run's own, and the reports are written regardless.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes to stderr; a closed one (a terminal gone with SIGHUP) is no reason to stop.
fn warn(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// A plan file that does not exist is a mistake on the command line (exit 2), not an
/// invalid plan: says so and returns `true`.
fn missing(plan: &Path) -> bool {
    let missing = matches!(
        std::fs::metadata(plan),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound
    );
    if missing {
        warn(&format!(
            "error: plan file `{}` not found: expected the path of a YAML or TOML plan\n",
            plan.display()
        ));
    }
    missing
}

/// A multi-threaded tokio runtime with `workers` threads; `None` (after saying why) if
/// the operating system refuses one.
fn runtime(workers: usize) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(e) => {
            warn(&format!("error: cannot start the async runtime: {e}\n"));
            None
        }
    }
}

/// Compiles the plan first, then drives it on a runtime sized to the load it offers.
fn run(args: RunArgs) -> u8 {
    if missing(&args.core.plan) {
        return exit_code::USAGE;
    }
    let prepared = match planrun::prepare(args.into_options()) {
        Ok(prepared) => prepared,
        Err(e) => return failed(e),
    };
    let Some(runtime) = runtime(prepared.worker_threads()) else {
        return exit_code::ERROR;
    };
    let stop = StopSignal::default();
    // The run is spawned, not driven by `block_on` itself: `block_on` polls its future on
    // the main thread, and every hand-off between that thread and the workers (the
    // engine's schedule waking users, users waking it) would cost a futex or an eventfd
    // write. Spawned, the whole run lives on the workers: on one, with no hand-offs.
    let outcome = runtime.block_on(async {
        tokio::spawn(watch_signals(stop.clone()));
        tokio::spawn(planrun::execute(prepared, stop)).await
    });
    match outcome {
        Ok(Ok(outcome)) => finished(&outcome),
        Ok(Err(e)) => failed(e),
        // The run panicked: tokio caught it; let it end the process as a panic would.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Prints the summary and where the reports are; the exit code follows the verdicts.
fn finished(outcome: &planrun::Outcome) -> u8 {
    // Rendered from `Results`, which hold no secret's value (`Results::new` scrubbed them).
    say(&report::terminal::render(&outcome.results));
    if let Some(hits) = &outcome.sample_hits {
        // The preflight reached the server too, but is not part of the load.
        let preflight = if outcome.preflight {
            ", one of them the preflight"
        } else {
            ""
        };
        say(&format!(
            "\nsample API counted {} requests{preflight}\n",
            hits.total()
        ));
    }
    say(&format!(
        "\nreports: {}\n  open {}\n",
        outcome.report_dir.display(),
        outcome.report_dir.join("report.html").display()
    ));
    outcome.exit_code()
}

/// Says what stopped the run; each kind of error has its exit code.
fn failed(error: Error) -> u8 {
    match error {
        Error::Plan(errors) => {
            warn(&errors.render(std::io::stderr().is_terminal()));
            exit_code::PLAN_INVALID
        }
        e @ Error::Preflight(_) => {
            warn(&format!("error: {e}\n"));
            exit_code::PREFLIGHT_FAILED
        }
        e => {
            warn(&format!("error: {e}\n"));
            exit_code::ERROR
        }
    }
}

/// `planrun report`: exit 0 once the files are written, whatever the run's verdict.
fn rerender(args: ReportArgs) -> u8 {
    match report::rerender(&args.source, args.out.as_deref()) {
        Ok((dir, results)) => {
            say(&report::terminal::render(&results));
            say(&format!("\nreports: {}\n", dir.display()));
            exit_code::OK
        }
        Err(e) => {
            warn(&format!("error: {e}\n"));
            exit_code::ERROR
        }
    }
}

/// `planrun check`: 0 when every plan is valid, 3 when one is not, 2 when a plan file
/// does not exist (the command line is wrong).
fn check(args: CheckArgs) -> u8 {
    let overrides = args.flags.overrides();
    let (mut invalid, mut not_found) = (false, false);
    for (i, path) in args.plans.iter().enumerate() {
        if i > 0 {
            say("\n");
        }
        if missing(path) {
            not_found = true;
            continue;
        }
        match planrun::check(path, &args.flags.sets, &overrides) {
            Ok(exec) => say(&exec.secrets.scrub(&report::overview::render(&exec))),
            Err(errors) => {
                warn(&errors.render(std::io::stderr().is_terminal()));
                invalid = true;
            }
        }
    }
    if not_found {
        exit_code::USAGE
    } else if invalid {
        exit_code::PLAN_INVALID
    } else {
        exit_code::OK
    }
}

/// How a signal asks the run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Ctrl-C, SIGTERM, SIGHUP (a closed terminal or SSH session): let in-flight requests
    /// finish within the grace period. A second one stops at once.
    Graceful,
    /// SIGQUIT (Ctrl-\): the key people press to stop *now*. In-flight requests are
    /// abandoned, as on a second Ctrl-C, but the results are still written and the exit
    /// code is 130 like any interrupted run: a load test that dumps core and loses its
    /// results helps nobody, and one code for "interrupted, results written" keeps CI
    /// scripts simple.
    Now,
}

/// Stops the run on the signals above; results are written whichever it was.
async fn watch_signals(stop: StopSignal) {
    let mut signals = Signals::new();
    while let Some(kind) = signals.next().await {
        if kind == Stop::Graceful && !stop.graceful.is_cancelled() {
            warn("\nstopping: letting in-flight requests finish (Ctrl-C again to stop at once)\n");
            stop.graceful.cancel();
        } else {
            warn("\nstopping now\n");
            stop.graceful.cancel();
            stop.immediate.cancel();
            return;
        }
    }
}

/// The signals that stop a run, registered once (from then on they no longer kill the
/// process outright).
struct Signals {
    #[cfg(unix)]
    watched: Vec<(tokio::signal::unix::Signal, Stop)>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let watched = [
                (SignalKind::interrupt(), Stop::Graceful),
                (SignalKind::terminate(), Stop::Graceful),
                (SignalKind::hangup(), Stop::Graceful),
                (SignalKind::quit(), Stop::Now),
            ]
            .into_iter()
            .filter_map(|(kind, stop)| signal(kind).ok().map(|s| (s, stop)))
            .collect();
            Self { watched }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// The next signal; `None` if none can be watched.
    async fn next(&mut self) -> Option<Stop> {
        #[cfg(unix)]
        {
            if self.watched.is_empty() {
                return None;
            }
            std::future::poll_fn(|cx| {
                for (signal, stop) in &mut self.watched {
                    if let std::task::Poll::Ready(Some(())) = signal.poll_recv(cx) {
                        return std::task::Poll::Ready(Some(*stop));
                    }
                }
                std::task::Poll::Pending
            })
            .await
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.ok().map(|()| Stop::Graceful)
        }
    }
}
