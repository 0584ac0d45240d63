//! The `planrun` binary: parse the command line, build the runtime, call the library,
//! map the outcome to an exit code.

use std::io::IsTerminal;
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
                    eprintln!("error: {e:#}");
                    exit_code::ERROR
                }
                None => exit_code::ERROR,
            }
        }
        (None, None) => {
            eprintln!("usage: planrun PLAN [OPTIONS]  (see `planrun --help`)");
            exit_code::USAGE
        }
    };
    ExitCode::from(code)
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
            eprintln!("error: cannot start the async runtime: {e}");
            None
        }
    }
}

/// Compiles the plan first, then drives it on a runtime sized to the load it offers.
fn run(args: RunArgs) -> u8 {
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
    print!("{}", report::terminal::render(&outcome.results));
    if let Some(hits) = &outcome.sample_hits {
        // The preflight reached the server too, but is not part of the load.
        let preflight = if outcome.preflight {
            ", one of them the preflight"
        } else {
            ""
        };
        println!("\nsample API counted {} requests{preflight}", hits.total());
    }
    println!("\nreports: {}", outcome.report_dir.display());
    println!(
        "  open {}",
        outcome.report_dir.join("report.html").display()
    );
    outcome.exit_code()
}

/// Says what stopped the run; each kind of error has its exit code.
fn failed(error: Error) -> u8 {
    match error {
        Error::Plan(errors) => {
            eprint!("{}", errors.render(std::io::stderr().is_terminal()));
            exit_code::PLAN_INVALID
        }
        e @ Error::Preflight(_) => {
            eprintln!("error: {e}");
            exit_code::PREFLIGHT_FAILED
        }
        e => {
            eprintln!("error: {e}");
            exit_code::ERROR
        }
    }
}

/// `planrun report`: exit 0 once the files are written, whatever the run's verdict.
fn rerender(args: ReportArgs) -> u8 {
    match report::rerender(&args.source, args.out.as_deref()) {
        Ok((dir, results)) => {
            print!("{}", report::terminal::render(&results));
            println!("\nreports: {}", dir.display());
            exit_code::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::ERROR
        }
    }
}

fn check(args: CheckArgs) -> u8 {
    let mut code = exit_code::OK;
    for (i, path) in args.plans.iter().enumerate() {
        if i > 0 {
            println!();
        }
        match planrun::check(path, &args.sets) {
            Ok(exec) => print!("{}", exec.secrets.scrub(&report::overview::render(&exec))),
            Err(errors) => {
                eprint!("{}", errors.render(std::io::stderr().is_terminal()));
                code = exit_code::PLAN_INVALID;
            }
        }
    }
    code
}

/// First Ctrl-C or SIGTERM: stop gracefully. Second: stop at once (results still written).
async fn watch_signals(stop: StopSignal) {
    for token in [&stop.graceful, &stop.immediate] {
        if !wait_for_signal().await {
            return;
        }
        if token == &stop.graceful {
            eprintln!(
                "\nstopping: letting in-flight requests finish (Ctrl-C again to stop at once)"
            );
        } else {
            eprintln!("\nstopping now");
        }
        token.cancel();
    }
}

/// Resolves on Ctrl-C or SIGTERM; `false` if signals cannot be watched.
async fn wait_for_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.is_ok(),
            _ = term.recv() => true,
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}
