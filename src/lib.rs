//! planrun runs declarative HTTP load-test plans and gates CI on their SLOs.
//!
//! The pipeline: plan file → compiled graph → engine → metrics → SLO verdicts → reports.
//!
//! # Public surface
//!
//! planrun is a program first. The library is public only so that `main.rs` and the
//! integration tests (`tests/integration/`) can reach it, and its `pub` items are exactly
//! what those two use; everything else is `pub(crate)`, and `unreachable_pub` warns when a
//! `pub` nobody outside can reach creeps back. What they use:
//! - [`run`], [`prepare`] and [`execute`] with [`RunOptions`] and [`Outcome`]: a whole run;
//!   [`check`] for `planrun check`; [`cli`] is the command line `main.rs` parses;
//! - [`plan::load`] and [`compile::compile`] with [`compile::Overrides`]: a plan file to the
//!   executable graph, whose parts the tests inspect;
//! - [`engine`]'s [`engine::StopSignal`], transports and preflight, to drive a graph;
//! - [`metrics::RunSummary`] and [`slo::evaluate`]: what was measured and its verdicts;
//! - [`report::Results`] (summary.json, typed) and its renderers;
//! - [`sample_api`], the bundled target, which the pipeline itself never imports;
//! - [`units`] and [`exit_code`].

#![warn(unreachable_pub)]

pub mod cli;
pub mod compile;
pub mod engine;
pub mod error;
pub mod metrics;
pub mod plan;
pub mod report;
pub mod sample_api;
pub mod slo;
pub mod units;

use std::path::PathBuf;
use std::sync::Arc;

use engine::{HttpTransport, StopSignal};
use error::Error;
use metrics::RunSummary;
use report::progress::ProgressMode;
use sample_api::{HitCounts, SampleApiConfig};
use slo::Verdict;

pub use units::exit_code;

/// Everything a run needs, typed (see `cli::RunArgs::into_options`).
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub plan: PathBuf,
    /// `--set key.path=value` flags, applied in order.
    pub sets: Vec<String>,
    pub overrides: compile::Overrides,
    /// Parent directory of the run's report directory.
    pub out: PathBuf,
    /// Copies of reports outside the run directory (`--csv`, `--html`, CI summary).
    pub exports: report::Exports,
    /// Start the bundled sample API in-process and point the plan at it.
    pub sample_api: Option<SampleApiConfig>,
    pub progress: ProgressMode,
    /// Send the plan's preflight request before the load (`--no-preflight` turns it off).
    pub preflight: bool,
    /// `--strict`: a missed target (WARN) fails the run like a critical SLO.
    pub strict: bool,
    /// `--threads`: the engine's worker threads, instead of the choice made from the plan.
    pub threads: Option<usize>,
}

/// What a finished run produced.
#[derive(Debug)]
pub struct Outcome {
    pub exec: Arc<compile::ExecPlan>,
    pub summary: RunSummary,
    pub verdicts: Vec<Verdict>,
    /// What the reports show (the contents of `summary.json`).
    pub results: report::Results,
    /// Where the report files were written.
    pub report_dir: PathBuf,
    /// The in-process sample API's counters, when `--sample-api` was used.
    pub sample_hits: Option<HitCounts>,
    /// A preflight request was sent before the load (it is not in the results).
    pub preflight: bool,
}

impl Outcome {
    /// The run's exit code, as its results record it (`slo::RunVerdict::judge`).
    pub fn exit_code(&self) -> u8 {
        self.results.verdict.exit_code
    }
}

/// Runs a plan: load, compile, drive the load, summarise, check SLOs, write reports.
/// `stop` ends the load early; what was gathered is still summarised and written.
pub async fn run(opts: RunOptions, stop: StopSignal) -> Result<Outcome, Error> {
    execute(prepare(opts)?, stop).await
}

/// A run with its plan compiled and nothing sent yet. Preparing needs no async runtime,
/// so the binary can size the runtime to the plan (`Prepared::worker_threads`).
#[derive(Debug)]
pub struct Prepared {
    opts: RunOptions,
    exec: Arc<compile::ExecPlan>,
    /// The bundled sample API, serving on its own threads, when the run targets it.
    sample_api: Option<sample_api::Target>,
}

/// Loads and compiles the plan; with `--sample-api`, starts the sample API first, so the
/// plan is compiled against its address.
pub fn prepare(opts: RunOptions) -> Result<Prepared, Error> {
    let loaded = plan::load(&opts.plan, &opts.sets)?;
    let mut overrides = opts.overrides.clone();
    let sample_api = match &opts.sample_api {
        Some(config) => {
            let target = sample_api::Target::start(config.clone()).map_err(Error::SampleApi)?;
            overrides.host = Some(target.url().to_owned());
            overrides.host_from = Some("--sample-api".to_owned());
            // Plans sign webhooks with secrets from the environment; against the sample
            // API, its own secrets stand in for the ones not set.
            overrides
                .env_defaults
                .extend_from_slice(target.env_defaults());
            Some(target)
        }
        None => None,
    };
    let exec = Arc::new(compile::compile(&loaded, &overrides)?);
    for warning in exec.secrets.warnings() {
        // Not `eprintln!`, which panics on a closed stderr: a warning never ends a run.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), "{warning}");
    }
    if exec.tls.insecure && exec.host.starts_with("https://") {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr().lock(),
            "warning: `tls.insecure: true`: the server's certificate will not be verified (every report says so)"
        );
    }
    Ok(Prepared {
        opts,
        exec,
        sample_api,
    })
}

impl Prepared {
    /// Worker threads for the runtime that will drive the load: `--threads`, else chosen
    /// from the load the plan offers (`engine::worker_threads`).
    pub fn worker_threads(&self) -> usize {
        self.opts.threads.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            engine::worker_threads(&self.exec, cores)
        })
    }
}

/// Drives a prepared run: preflight, load, summary, verdicts, reports.
pub async fn execute(prepared: Prepared, stop: StopSignal) -> Result<Outcome, Error> {
    let Prepared {
        opts,
        exec,
        sample_api,
    } = prepared;
    // From here on an error may quote a rendered request: it leaves scrubbed.
    drive(opts, exec.clone(), sample_api.as_ref(), stop)
        .await
        .map_err(|e| e.scrubbed(&exec.secrets))
    // The sample API stops here, as its target is dropped.
}

/// The run once the plan is compiled: preflight, load, summary, verdicts, reports.
async fn drive(
    opts: RunOptions,
    exec: Arc<compile::ExecPlan>,
    sample_api: Option<&sample_api::Target>,
    stop: StopSignal,
) -> Result<Outcome, Error> {
    let transport =
        HttpTransport::with_tls(&exec.host, exec.tls.clone()).map_err(Error::Transport)?;
    let transport = Arc::new(transport.with_connection_idle(exec.connection_idle));
    if opts.preflight {
        // A Ctrl-C while the target is slow to answer ends the wait; the engine then sees
        // the stop at once and the (empty) interrupted results are still written.
        tokio::select! {
            checked = engine::preflight(&exec, transport.as_ref()) => checked?,
            _ = stop.graceful.cancelled() => {}
        }
    }

    let run_start = tokio::time::Instant::now();
    // The per-second series waits on disk beside the reports, so a long run's memory
    // stays flat; if the directory cannot be made now, writing the reports will say why.
    let spill_dir = std::fs::create_dir_all(&opts.out)
        .is_ok()
        .then_some(opts.out.as_path());
    let mut progress = report::progress::Progress::new(exec.schedule.total, opts.progress);
    let (events, recorder) = metrics::recorder_with(
        &exec,
        run_start,
        spill_dir,
        progress.printer(),
        opts.exports.csv_full_history,
    );
    progress.follow(recorder.live());
    let stop = StopSignal {
        abort: recorder.abort_signal(), // a breached `abort` SLO ends the load too
        ..stop
    };
    let outcome = engine::run(exec.clone(), transport, events, run_start, stop).await; // Ctrl-C ends this,
    let summary = recorder.finish(outcome).await; // yet we still summarise
    progress.finish();
    let verdicts = slo::evaluate(&exec.slos, &summary);
    let results = report::Results::new(&exec, &summary, &verdicts, opts.strict)?;
    let report_dir = report::write_all(&opts.out, &opts.exports, &results)?;

    // Read once the load is over: every answer a user saw is counted by then.
    let sample_hits = sample_api.map(sample_api::Target::hits);
    Ok(Outcome {
        exec,
        summary,
        verdicts,
        results,
        report_dir,
        sample_hits,
        preflight: opts.preflight,
    })
}

/// `planrun check`: loads and compiles a plan, with the run's flags (`overrides`, `sets`),
/// without sending anything.
pub fn check(
    plan_path: &std::path::Path,
    sets: &[String],
    overrides: &compile::Overrides,
) -> Result<compile::ExecPlan, plan::PlanErrors> {
    let loaded = plan::load(plan_path, sets)?;
    let overrides = compile::Overrides {
        lenient_env: true,
        ..overrides.clone()
    };
    compile::compile(&loaded, &overrides)
}
