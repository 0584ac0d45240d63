//! Live progress while the load runs: an indicatif bar on a terminal, a plain line every
//! few seconds otherwise (CI logs). Reads the recorder's `LiveSnapshot`s; never touches
//! the request path.

use std::io::{IsTerminal, Write as _};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::{LinePrinter, LiveSnapshot, stderr_printer};
use crate::slo::format_latency_us;
use crate::units::format_duration;

/// How to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProgressMode {
    /// A live bar on a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// Plain lines every few seconds.
    Plain,
    /// Nothing until the summary.
    Off,
}

/// Plain lines this far apart.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// The display; `follow` starts it, `finish` clears the bar before the summary prints.
pub(crate) struct Progress {
    mode: ProgressMode,
    total: Duration,
    task: Option<JoinHandle<()>>,
    /// The live bar (`Auto` on a terminal).
    bar: Option<ProgressBar>,
}

impl Progress {
    /// The display for a run of `total`; made before the recorder, which prints its
    /// failure lines through `printer`.
    pub(crate) fn new(total: Duration, mode: ProgressMode) -> Progress {
        let bar = (mode == ProgressMode::Auto && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total.as_secs().max(1));
            let style =
                ProgressStyle::with_template("{elapsed_precise} / {prefix} [{bar:30}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format_duration(total));
            bar
        });
        Progress {
            mode,
            total,
            task: None,
            bar,
        }
    }

    /// Where lines printed during the run go: above the bar when there is one (a line
    /// written to stderr under a live bar lands in the middle of it), else stderr.
    pub(crate) fn printer(&self) -> LinePrinter {
        match &self.bar {
            Some(bar) => {
                let bar = bar.clone();
                Arc::new(move |line: &str| bar.println(line))
            }
            None => stderr_printer(),
        }
    }

    /// Shows the recorder's snapshots as they come.
    pub(crate) fn follow(&mut self, live: watch::Receiver<LiveSnapshot>) {
        self.task = match (&self.bar, self.mode) {
            (Some(bar), _) => Some(tokio::spawn(drive_bar(bar.clone(), live))),
            (None, ProgressMode::Off) => None,
            (None, _) => Some(tokio::spawn(print_lines(self.total, live))),
        };
    }

    pub(crate) fn finish(self) {
        if let Some(task) = self.task {
            task.abort();
        }
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `users 100 | 215.0 req/s | p95 23.4ms | errors 0.10% (12)`
pub(crate) fn describe(snapshot: &LiveSnapshot) -> String {
    let error_rate = if snapshot.requests == 0 {
        0.0
    } else {
        snapshot.failures as f64 * 100.0 / snapshot.requests as f64
    };
    format!(
        "users {} | {} req/s | p95 {} | errors {:.2}% ({}) | {} requests",
        snapshot.users,
        snapshot.last_second_requests,
        format_latency_us(snapshot.last_second_p95_us as f64),
        error_rate,
        snapshot.failures,
        snapshot.requests,
    )
}

async fn drive_bar(bar: ProgressBar, mut live: watch::Receiver<LiveSnapshot>) {
    while live.changed().await.is_ok() {
        let snapshot = live.borrow_and_update().clone();
        bar.set_position(snapshot.elapsed.as_secs());
        bar.set_message(describe(&snapshot));
    }
}

async fn print_lines(total: Duration, mut live: watch::Receiver<LiveSnapshot>) {
    let mut last_print = Duration::ZERO;
    while live.changed().await.is_ok() {
        let snapshot = live.borrow_and_update().clone();
        if snapshot.elapsed >= last_print + PLAIN_EVERY {
            last_print = snapshot.elapsed;
            // Not `eprintln!`: a closed stderr (SIGHUP) must not end the display's task.
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{} / {}] {}",
                format_duration(Duration::from_secs(snapshot.elapsed.as_secs())),
                format_duration(total),
                describe(&snapshot)
            );
        }
    }
}
