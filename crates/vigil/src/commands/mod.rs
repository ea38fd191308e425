//! One module per command, grouped by family (`bench/`, `eval/`,
//! `monitor/`). `run` resolves clap arguments into plain settings once,
//! then dispatches.

mod bank;
mod bench;
mod eval;
mod hash;
mod hash_document;
mod match_files;
mod monitor;
mod serve;
mod store_access;
mod token;
mod transfer;

use std::time::Duration;

use anyhow::Context;
use vigil_engine::transfer::Format;
use vigil_fetch::{Fetcher, UrlPolicy};
use vigil_media::{HashOptions, Limits};
use vigil_server::{HttpLimits, ServerSettings};
use vigil_signal::PdqMode;

use crate::ExitStatus;
use crate::cli::{
    BankCommand, Cli, Command, FileFormat, LimitArgs, PdqModeArg, RoleArg, TokenCommand, WorkerArgs,
};
use crate::cli_bench::BenchCommand;
use crate::cli_eval::EvalCommand;
use crate::cli_monitor::{MonitorCommand, ReportCommand};
use crate::cli_serve::ServeArgs;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let store = store_access::StoreSettings {
        data_dir: cli.store.data_dir,
        database: cli.store.database,
    };
    let stdout = || std::io::stdout().lock();
    match cli.command {
        Command::Bank(command) => {
            let action = match command {
                BankCommand::Create {
                    name,
                    enabled_ratio,
                    exist_ok,
                } => bank::BankAction::Create {
                    name,
                    enabled_ratio,
                    exist_ok,
                },
                BankCommand::List => bank::BankAction::List,
                BankCommand::Show { name } => bank::BankAction::Show { name },
                BankCommand::Rename { name, new_name } => {
                    bank::BankAction::Rename { name, new_name }
                }
                BankCommand::Delete { name } => bank::BankAction::Delete { name },
                BankCommand::Add(args) => bank::BankAction::Add(bank::AddSettings {
                    options: HashOptions {
                        limits: limits(&args.limits),
                        bank_variants: !args.no_variants,
                        ..HashOptions::default()
                    },
                    bank: args.bank,
                    paths: args.paths,
                    labels: args.labels,
                    note: args.note,
                }),
            };
            bank::run(&store, action, stdout())
        }
        Command::Serve(args) => serve::run(&store, serve_settings(&args)?),
        Command::Token(command) => {
            let action = match command {
                TokenCommand::Create { name, roles } => token::TokenAction::Create {
                    name,
                    roles: roles.into_iter().map(role).collect(),
                },
                TokenCommand::List => token::TokenAction::List,
                TokenCommand::Revoke { name } => token::TokenAction::Revoke { name },
            };
            token::run(&store, action, stdout())
        }
        Command::Import(args) => transfer::import(
            &store,
            &args.bank,
            &args.file,
            args.format.map(file_format),
            stdout(),
        ),
        Command::Export(args) => {
            transfer::export(&store, &args.bank, file_format(args.format), stdout())
        }
        Command::Match(args) => {
            let defences = defences(&args);
            let settings = match_files::MatchSettings {
                lookup: vigil_engine::LookupOptions {
                    max_distance: Some(args.max_distance),
                    bypass_enabled_ratio: args.bypass_enabled_ratio,
                    vpdq_query_pct: Some(args.vpdq_query_pct.clamp(0.0, 100.0)),
                    vpdq_compared_pct: Some(args.vpdq_compared_pct.clamp(0.0, 100.0)),
                    text_containment: Some(args.text_containment.clamp(0.0, 1.0)),
                    ..Default::default()
                },
                banks: args.banks,
                options: HashOptions {
                    limits: limits(&args.limits),
                    defences,
                    ..HashOptions::default()
                },
                paths: args.paths,
            };
            match_files::run(&store, &settings, stdout())
        }
        Command::Hash(args) => {
            let settings = hash::HashSettings {
                options: HashOptions {
                    pdq_mode: pdq_mode(args.pdq_mode),
                    dihedral: args.dihedral,
                    limits: limits(&args.limits),
                    ..HashOptions::default()
                },
                video: hash::VideoSettings {
                    options: vigil_media::VideoOptions {
                        seconds_per_hash: args.video.seconds_per_hash.max(0.0),
                        downscale: args.video.downscale,
                        limits: vigil_media::VideoLimits {
                            max_wall_time: std::time::Duration::from_secs(args.video.video_timeout),
                            max_duration_seconds: args.video.max_video_seconds as f64,
                            ..vigil_media::VideoLimits::default()
                        },
                    },
                    frames: args.video.frames,
                },
                threads: threads(&args.workers),
                progress: !args.no_progress,
                paths: args.paths,
            };
            hash::run(&settings, std::io::stdout().lock())
        }
        Command::Bench(BenchCommand::Hash(args)) => {
            let settings = vigil_bench::BenchHashSettings {
                sizes: args
                    .sizes
                    .iter()
                    .map(|s| vigil_bench::parse_size(s))
                    .collect::<anyhow::Result<_>>()?,
                dir: args.dir,
                count: args.count,
                rounds: args.rounds,
                python: (!args.no_reference).then_some(args.python),
                threads: threads(&args.workers),
            };
            bench::hash(&settings, stdout())
        }
        Command::Bench(BenchCommand::Video(args)) => {
            let settings = vigil_bench::BenchVideoSettings {
                videos: args.videos,
                bank_videos: args.bank_videos,
                frames: args.frames.max(1),
                queries: args.queries.max(1),
            };
            bench::video(&settings, stdout())
        }
        Command::Bench(BenchCommand::Text(args)) | Command::Eval(EvalCommand::Text(args)) => {
            let settings = vigil_bench::BenchTextSettings {
                corpus: args.corpus,
                documents: args.documents.max(1),
                unrelated: args.unrelated,
                bank: args.bank,
                threshold: args.threshold,
                sample: args.sample.max(1),
                seed: args.seed,
            };
            bench::text(&settings, stdout())
        }
        Command::Monitor(command) => match command {
            MonitorCommand::Source(command) => monitor::source(&store, command, stdout()),
            MonitorCommand::Webhook(command) => monitor::webhook(&store, command, stdout()),
            MonitorCommand::Run(args) => monitor::run(&store, &args),
            MonitorCommand::Sightings { matched } => monitor::sightings(&store, matched, stdout()),
            MonitorCommand::Alerts => monitor::alerts(&store, stdout()),
        },
        Command::Eval(EvalCommand::Images(args)) => {
            let settings = vigil_bench::EvalImagesSettings {
                corpus: args.corpus,
                threshold: args.threshold,
                max_side: args.max_side.max(64),
                limit: args.limit,
                threads: threads(&args.workers),
                progress: !args.no_progress,
                chart: args.chart,
                details: args.details,
                related: args.related,
            };
            eval::images(&settings, stdout())
        }
        Command::Eval(EvalCommand::Videos(args)) => {
            let settings = vigil_bench::EvalVideosSettings {
                corpus: args.corpus,
                limit: args.limit,
                threads: threads(&args.workers),
                progress: !args.no_progress,
                related: args.related,
            };
            eval::videos(&settings, stdout())
        }
        Command::Report(ReportCommand::Takedowns { json }) => {
            monitor::report::takedowns(&store, json, stdout())
        }
        Command::Bench(BenchCommand::Monitor(args)) => {
            let settings = vigil_bench::BenchMonitorSettings {
                posts: args.posts,
                links: args.links,
                sources: args.sources,
                interval: args.interval,
                duration: args.duration,
                banked_share: args.banked_share.clamp(0.0, 1.0),
                per_host_gap: args.per_host_gap,
                vectors: args.vectors,
            };
            bench::monitor(&settings, stdout())
        }
        Command::Bench(BenchCommand::Import(args)) => {
            let settings = vigil_bench::BenchImportSettings {
                size: args.size,
                postgres: store.database.is_some(),
            };
            bench::import(&store, &settings, stdout())
        }
        Command::Bench(BenchCommand::Index(args)) => {
            let settings = vigil_bench::BenchIndexSettings {
                size: args.size,
                queries: args.queries.max(1),
                radius: args.radius,
                clustered: args.clustered,
                recall_queries: args.recall_queries,
                seed: args.seed,
                snapshot: args.snapshot,
                threads: threads(&args.workers),
            };
            bench::index(&settings, stdout())
        }
    }
}

/// Resolves `vigil serve`'s arguments. Tokens become mandatory on any
/// address but loopback: there the API is reachable by others.
fn serve_settings(args: &ServeArgs) -> anyhow::Result<serve::Serve> {
    let policy = UrlPolicy {
        allowed_hosts: args.fetch_allowed_hosts.clone(),
        allow_private: args.fetch_allow_private,
        max_bytes: args.fetch_max_mib.saturating_mul(1024 * 1024),
        timeout: Duration::from_secs(args.fetch_timeout.max(1)),
        ..UrlPolicy::default()
    };
    let fetcher = Fetcher::new(policy).context("cannot set up URL fetching")?;
    let mut roles: Vec<vigil_store::Role> = args.roles.iter().copied().map(role).collect();
    roles.sort();
    roles.dedup();
    let exchange_dir = match &args.exchange_dir {
        Some(dir) => Some(
            std::fs::canonicalize(dir)
                .with_context(|| format!("exchange directory {}", dir.display()))?,
        ),
        None => None,
    };
    let limits = &args.limits;
    let mib = |n: u64| n.saturating_mul(1024 * 1024);
    Ok(serve::Serve {
        listen: args.listen,
        settings: ServerSettings {
            roles,
            require_tokens: args.require_tokens || !args.listen.ip().is_loopback(),
            fetcher,
            exchanges: vigil_engine::exchange::ExchangeSettings {
                local_file_dir: exchange_dir,
            },
            exchange_interval: (args.exchange_interval > 0)
                .then(|| Duration::from_secs(args.exchange_interval)),
            limits: HttpLimits {
                json_body_bytes: limits.max_json_kib.saturating_mul(1024),
                upload_bytes: mib(limits.max_upload_mib),
                memory_budget_bytes: mib(limits.memory_budget_mib),
                max_connections: limits.max_connections,
                idle_timeout: Duration::from_secs(limits.idle_timeout.max(1)),
                header_timeout: Duration::from_secs(limits.header_timeout.max(1)),
                body_timeout: Duration::from_secs(limits.body_timeout.max(1)),
                ..HttpLimits::default()
            },
            public_hosts: args.public_hosts.clone(),
        },
    })
}

fn file_format(format: FileFormat) -> Format {
    match format {
        FileFormat::Jsonl => Format::JsonLines,
        FileFormat::Csv => Format::Csv,
        FileFormat::LocalFile => Format::LocalFile,
    }
}

fn role(arg: RoleArg) -> vigil_store::Role {
    match arg {
        RoleArg::Hasher => vigil_store::Role::Hasher,
        RoleArg::Matcher => vigil_store::Role::Matcher,
        RoleArg::Curator => vigil_store::Role::Curator,
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

/// The lookup defences `vigil match` asked for (`--dihedral` is one).
fn defences(args: &crate::cli::MatchArgs) -> vigil_media::Defences {
    let mut defences = args.defend.unwrap_or_default();
    defences.dihedral |= args.dihedral;
    defences
}

fn threads(args: &WorkerArgs) -> usize {
    args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    )
}
