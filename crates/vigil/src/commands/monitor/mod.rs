//! `vigil monitor …`: sources, webhooks, the monitor itself, and what it
//! recorded.

pub(crate) mod report;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use vigil_engine::monitor::alert::rfc3339;
use vigil_engine::monitor::hosts::HostRules;
use vigil_engine::monitor::report::sighting_record;
use vigil_engine::monitor::{Monitor, MonitorOptions, MonitorStatus};
use vigil_fetch::UrlPolicy;
use vigil_store::{NewSource, SourceKind};

use super::store_access::{ACTOR, StoreSettings};
use crate::ExitStatus;
use crate::cli_monitor::{MonitorRunArgs, SourceAddArgs, SourceCommand, WebhookCommand};

/// `vigil monitor source …`.
pub(crate) fn source(
    store: &StoreSettings,
    command: SourceCommand,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let store = store.open()?;
    match command {
        SourceCommand::Add(args) => {
            let source = store
                .add_source(&new_source(args)?, ACTOR)
                .context("cannot add the source")?;
            writeln!(out, "{}", source_json(&source))?;
        }
        SourceCommand::List => {
            for source in store.sources()? {
                writeln!(out, "{}", source_json(&source))?;
            }
        }
        SourceCommand::Remove { name } => {
            if !store.remove_source(&name, ACTOR)? {
                bail!("no source named {name:?}");
            }
            writeln!(out, "{}", json!({ "removed": name }))?;
        }
    }
    Ok(ExitStatus::Success)
}

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

fn source_json(source: &vigil_store::Source) -> Value {
    json!({
        "name": source.name,
        "kind": source.kind.as_str(),
        "location": source.location,
        "interval_ms": source.interval_ms,
        "ignore_robots": source.ignore_robots,
        "last_polled_at": source.last_polled_at.map(rfc3339),
        "last_error": source.last_error,
    })
}

/// `vigil monitor webhook …`.
pub(crate) fn webhook(
    store: &StoreSettings,
    command: WebhookCommand,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let store = store.open()?;
    match command {
        WebhookCommand::Add { name, url } => {
            let hook = store
                .add_webhook(&name, &url, ACTOR)
                .context("cannot add the webhook")?;
            writeln!(out, "{}", json!({ "name": hook.name, "url": hook.url }))?;
        }
        WebhookCommand::List => {
            for hook in store.webhooks()? {
                writeln!(out, "{}", json!({ "name": hook.name, "url": hook.url }))?;
            }
        }
        WebhookCommand::Remove { name } => {
            if !store.remove_webhook(&name, ACTOR)? {
                bail!("no webhook named {name:?}");
            }
            writeln!(out, "{}", json!({ "removed": name }))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// The monitor's options from `vigil monitor run`'s arguments.
pub(crate) fn options(args: &MonitorRunArgs) -> anyhow::Result<MonitorOptions> {
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
                .map(|name| super::store_access::bank_name(name))
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

/// How long a stopped monitor waits for blocking work left running (store
/// writes finish well within it) before the process exits anyway: with the
/// monitor's own 0.5 s of grace, a stop takes under 1 s, well under the 2 s
/// promised.
const STOP_TIMEOUT: Duration = Duration::from_millis(200);

/// `vigil monitor run`.
pub(crate) fn run(store: &StoreSettings, args: &MonitorRunArgs) -> anyhow::Result<ExitStatus> {
    let options = options(args)?;
    if options.policy.allow_private {
        tracing::warn!("--allow-private: links may reach this machine's own network");
    }
    let engine = Arc::new(store.engine()?);
    let sources = engine.store().sources()?;
    if sources.is_empty() {
        eprintln!(
            "vigil: no sources yet; add one with `vigil monitor source add` (it is picked up while running)"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        // The engine's last reference must drop outside the runtime: the
        // PostgreSQL client blocks on its own runtime when it closes.
        let monitor =
            Monitor::new(Arc::clone(&engine), options).context("cannot set up the monitor")?;
        eprintln!(
            "vigil: monitoring {} sources; Ctrl-C stops (the next run resumes)",
            sources.len()
        );
        let line = (!args.no_progress && std::io::stderr().is_terminal())
            .then(|| status_line(monitor.clone()));
        let result = monitor
            .run(super::serve::shutdown_signal())
            .await
            .context("the monitor failed");
        if let Some(line) = line {
            line.abort();
        }
        result.map(|()| monitor.status())
    });
    // Whatever still runs (a parse of a hostile page never ends on its own)
    // is left to the process's exit rather than waited for.
    runtime.shutdown_timeout(STOP_TIMEOUT);
    let status = result?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", json!({ "stopped": true, "status": status }))?;
    Ok(ExitStatus::Success)
}

/// A status line on stderr, refreshed twice a second.
fn status_line(monitor: Monitor) -> tokio::task::JoinHandle<()> {
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        bar.set_style(style);
    }
    tokio::spawn(async move {
        loop {
            bar.set_message(describe(&monitor.status()));
            bar.tick();
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
}

fn describe(s: &MonitorStatus) -> String {
    format!(
        "reads {} · links {} · fetched {} · matched {} · alerts {} (delivered {}) · checks {} · gone {} · resurfaced {}",
        s.reads,
        s.links,
        s.fetched,
        s.matched,
        s.alerts,
        s.delivered,
        s.checks,
        s.gone,
        s.resurfacings
    )
}

/// `vigil monitor sightings`.
pub(crate) fn sightings(
    store: &StoreSettings,
    matched_only: bool,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let store = store.open()?;
    let sources: std::collections::HashMap<i64, String> = store
        .sources()?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut after = 0;
    loop {
        let page = store.sightings_after(after, 1_000)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for sighting in page.iter().filter(|s| s.matched || !matched_only) {
            let matches = store.sighting_matches(sighting.id)?;
            let source = sources.get(&sighting.seen.source_id).map(String::as_str);
            writeln!(out, "{}", sighting_record(sighting, &matches, source))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// `vigil monitor alerts`.
pub(crate) fn alerts(store: &StoreSettings, mut out: impl Write) -> anyhow::Result<ExitStatus> {
    for delivery in store.open()?.deliveries()? {
        writeln!(
            out,
            "{}",
            json!({
                "alert_id": delivery.alert_id,
                "webhook": delivery.webhook,
                "attempts": delivery.attempts,
                "delivered_at": delivery.delivered_at.map(rfc3339),
                "next_attempt_at": delivery.next_attempt_at.map(rfc3339),
                "last_error": delivery.last_error,
            })
        )?;
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::cli_monitor::MonitorCommand;

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
        let defaults = options(&run_args(&[])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(defaults.max_feed_bytes, 16 * 1024 * 1024);
        assert_eq!(defaults.max_export_bytes, 512 * 1024 * 1024);
        let set = options(&run_args(&["--max-feed-mib", "2", "--max-export-mib", "3"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.max_feed_bytes, 2 * 1024 * 1024);
        assert_eq!(set.max_export_bytes, 3 * 1024 * 1024);
    }
}
