//! The `vigil` command: flags, settings and glue over Vigil's library
//! crates. Commands take resolved settings (never clap types), write their
//! results to stdout and return an [`ExitStatus`].
//!
//! Exit codes, for scripts:
//! * `0` — everything succeeded;
//! * `1` — the command ran, but some inputs failed (each is reported in the
//!   output);
//! * `2` — the command could not run: bad usage, unreadable configuration or
//!   an internal error.

mod cli;
mod cli_bench;
mod cli_eval;
mod cli_monitor;
mod cli_serve;
mod commands;
mod env_vars;
mod logging;

use std::process::ExitCode;

use clap::Parser;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything succeeded.
    Success,
    /// The command ran, but some inputs failed.
    InputsFailed,
    /// The command could not run.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::InputsFailed => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

/// Parses the command line, runs the command and maps the outcome to an exit
/// code.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init();
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            if is_broken_pipe(&error) {
                // `vigil hash … | head` is normal use: stop quietly.
                return ExitCode::SUCCESS;
            }
            eprintln!("vigil: error: {error:#}");
            ExitStatus::Error.into()
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
