//! One module per command. `run` resolves clap arguments into plain
//! settings once, then dispatches.

mod bench_hash;
mod bench_images;
mod bench_index;
mod bench_support;
mod hash;

use vigil_media::{HashOptions, Limits};
use vigil_signal::PdqMode;

use crate::ExitStatus;
use crate::cli::{BenchCommand, Cli, Command, LimitArgs, PdqModeArg, WorkerArgs};

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Hash(args) => {
            let settings = hash::HashSettings {
                options: HashOptions {
                    pdq_mode: pdq_mode(args.pdq_mode),
                    dihedral: args.dihedral,
                    limits: limits(&args.limits),
                },
                threads: threads(&args.workers),
                progress: !args.no_progress,
                paths: args.paths,
            };
            hash::run(&settings, std::io::stdout().lock())
        }
        Command::Bench(BenchCommand::Hash(args)) => {
            let settings = bench_hash::BenchHashSettings {
                sizes: args
                    .sizes
                    .iter()
                    .map(|s| bench_images::parse_size(s))
                    .collect::<anyhow::Result<_>>()?,
                dir: args.dir,
                count: args.count,
                rounds: args.rounds,
                python: (!args.no_reference).then_some(args.python),
                threads: threads(&args.workers),
            };
            bench_hash::run(&settings, std::io::stdout().lock())
        }
        Command::Bench(BenchCommand::Index(args)) => {
            let settings = bench_index::BenchIndexSettings {
                size: args.size,
                queries: args.queries.max(1),
                radius: args.radius,
                clustered: args.clustered,
                recall_queries: args.recall_queries,
                seed: args.seed,
                snapshot: args.snapshot,
                threads: threads(&args.workers),
            };
            bench_index::run(&settings, std::io::stdout().lock())
        }
    }
}

fn pdq_mode(arg: PdqModeArg) -> PdqMode {
    match arg {
        PdqModeArg::Full => PdqMode::FullResolution,
        PdqModeArg::ReferenceCli => PdqMode::ReferenceCli,
    }
}

fn limits(args: &LimitArgs) -> Limits {
    Limits {
        max_file_bytes: args.max_file_bytes,
        max_pixels: args.max_pixels,
        max_side: args.max_side,
        ..Limits::default()
    }
}

fn threads(args: &WorkerArgs) -> usize {
    args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    )
}
