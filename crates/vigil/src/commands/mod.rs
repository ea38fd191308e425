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

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use vigil_engine::transfer::Format;
use vigil_fetch::{Fetcher, UrlPolicy};
use vigil_media::{HashOptions, Limits};
use vigil_monitor::MonitorOptions;
use vigil_monitor::hosts::HostRules;
use vigil_server::{HttpLimits, ServerSettings};
use vigil_signal::PdqMode;
use vigil_store::{NewSource, SourceKind};

use crate::ExitStatus;
use crate::cli::{
    BankCommand, Cli, Command, FileFormat, LimitArgs, PdqModeArg, RoleArg, TokenCommand, WorkerArgs,
};
use crate::cli_bench::BenchCommand;
use crate::cli_eval::EvalCommand;
use crate::cli_monitor::{
    MonitorCommand, MonitorRunArgs, ReportCommand, SourceAddArgs, SourceCommand, WebhookCommand,
};
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
                BankCommand::Add(args) => bank::BankAction::Add(Box::new(bank::AddSettings {
                    options: HashOptions {
                        limits: limits(&args.limits),
                        bank_variants: !args.no_variants,
                        ..HashOptions::default()
                    },
                    bank: args.bank,
                    paths: args.paths,
                    labels: args.labels,
                    note: args.note,
                })),
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
            MonitorCommand::Source(command) => {
                let action = match command {
                    SourceCommand::Add(args) => monitor::SourceAction::Add(new_source(args)?),
                    SourceCommand::List => monitor::SourceAction::List,
                    SourceCommand::Remove { name } => monitor::SourceAction::Remove { name },
                };
                monitor::source(&store, action, stdout())
            }
            MonitorCommand::Webhook(command) => {
                let action = match command {
                    WebhookCommand::Add { name, url } => monitor::WebhookAction::Add { name, url },
                    WebhookCommand::List => monitor::WebhookAction::List,
                    WebhookCommand::Remove { name } => monitor::WebhookAction::Remove { name },
                };
                monitor::webhook(&store, action, stdout())
            }
            MonitorCommand::Run(args) => {
                let settings = monitor::RunSettings {
                    options: monitor_options(&args)?,
                    progress: !args.no_progress,
                };
                monitor::run(&store, settings)
            }
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
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        usize::from,
    )
}

/// A source to add, from `vigil monitor source add`'s arguments.
fn new_source(args: SourceAddArgs) -> anyhow::Result<NewSource> {
    let (kind, location) = match (args.feed, args.page, args.telegram) {
        (Some(url), None, None) => (SourceKind::Feed, checked_url(&url)?),
        (None, Some(url), None) => (SourceKind::Page, checked_url(&url)?),
        (None, None, Some(path)) => {
            let path = std::path::absolute(&path)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            (
                SourceKind::TelegramExport,
                path.to_string_lossy().into_owned(),
            )
        }
        _ => bail!("give exactly one of --feed, --page or --telegram"),
    };
    Ok(NewSource {
        name: args.name,
        kind,
        location,
        interval_ms: i64::try_from(args.interval.as_millis()).unwrap_or(i64::MAX),
        ignore_robots: args.ignore_robots,
    })
}

fn checked_url(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("{url:?}: sources are read over http or https");
    }
    Ok(parsed.into())
}

/// The monitor's options from `vigil monitor run`'s arguments.
fn monitor_options(args: &MonitorRunArgs) -> anyhow::Result<MonitorOptions> {
    let defaults = MonitorOptions::default();
    let mut policy = UrlPolicy {
        allowed_hosts: args.allow_hosts.clone(),
        allow_private: args.allow_private,
        max_bytes: args.max_mib.saturating_mul(1024 * 1024),
        timeout: args.timeout.max(Duration::from_secs(1)),
        resolve: args
            .resolve
            .iter()
            .map(|(host, ip)| (host.clone(), SocketAddr::new(*ip, 0)))
            .collect(),
        ..defaults.policy.clone()
    };
    if let Some(agent) = &args.user_agent {
        policy.user_agent.clone_from(agent);
    }
    let mut host_rules = HostRules::new();
    for (host, class) in &args.host_classes {
        host_rules = host_rules.with(host, *class);
    }
    let banks = match &args.banks {
        Some(names) => Some(
            names
                .iter()
                .map(|name| store_access::bank_name(name))
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
        None => None,
    };
    Ok(MonitorOptions {
        policy,
        ladder: args.ladder.clone(),
        host_rules,
        fetch_concurrency: args.concurrency.max(1),
        per_host_concurrency: args.per_host.max(1),
        per_host_gap: args.per_host_gap,
        lookup: vigil_engine::LookupOptions {
            max_distance: Some(args.max_distance),
            banks,
            ..defaults.lookup.clone()
        },
        media_dir: args.store_media.clone(),
        unresponsive_after: args.unresponsive_after.max(1),
        max_feed_bytes: usize::try_from(args.max_feed_mib.saturating_mul(1024 * 1024))
            .unwrap_or(usize::MAX),
        max_export_bytes: args.max_export_mib.saturating_mul(1024 * 1024),
        ..defaults
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn run_args(args: &[&str]) -> MonitorRunArgs {
        let cli = Cli::try_parse_from(["vigil", "monitor", "run"].iter().chain(args))
            .unwrap_or_else(|e| panic!("{e}"));
        match cli.command {
            Command::Monitor(MonitorCommand::Run(args)) => args,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn feed_and_export_caps_come_from_the_command_line() {
        let defaults = monitor_options(&run_args(&[])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(defaults.max_feed_bytes, 16 * 1024 * 1024);
        assert_eq!(defaults.max_export_bytes, 512 * 1024 * 1024);
        let set = monitor_options(&run_args(&["--max-feed-mib", "2", "--max-export-mib", "3"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.max_feed_bytes, 2 * 1024 * 1024);
        assert_eq!(set.max_export_bytes, 3 * 1024 * 1024);
    }
}
