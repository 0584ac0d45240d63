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
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit_code::ERROR);
        }
    };
    let code = match (cli.command, cli.run) {
        (Some(Command::Run(args)), _) | (None, Some(args)) => runtime.block_on(run(args)),
        (Some(Command::Check(args)), _) => check(args),
        (Some(Command::Report(args)), _) => rerender(args),
        (Some(Command::SampleApi(args)), _) => {
            match runtime.block_on(planrun::sample_api::serve_until_ctrl_c(
                args.port,
                args.config(),
            )) {
                Ok(()) => exit_code::OK,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    exit_code::ERROR
                }
            }
        }
        (None, None) => {
            eprintln!("usage: planrun PLAN [OPTIONS]  (see `planrun --help`)");
            exit_code::USAGE
        }
    };
    ExitCode::from(code)
}

async fn run(args: RunArgs) -> u8 {
    let stop = StopSignal::default();
    tokio::spawn(watch_signals(stop.clone()));
    match planrun::run(args.into_options(), stop).await {
        Ok(outcome) => {
            let summary = report::terminal::render(&outcome.results);
            print!("{}", outcome.exec.secrets.scrub(&summary));
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
        Err(Error::Plan(errors)) => {
            eprint!("{}", errors.render(std::io::stderr().is_terminal()));
            exit_code::PLAN_INVALID
        }
        Err(e @ Error::Preflight(_)) => {
            eprintln!("error: {e}");
            exit_code::PREFLIGHT_FAILED
        }
        Err(e) => {
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
