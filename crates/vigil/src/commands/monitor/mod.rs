//! `vigil monitor …`: sources, webhooks, the monitor itself, and what it
//! recorded.

pub(crate) mod report;

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use vigil_engine::Engine;
use vigil_monitor::alert::rfc3339;
use vigil_monitor::{Monitor, MonitorOptions, MonitorStatus, SightingFilter, list_sightings};
use vigil_store::NewSource;

use super::store_access::{ACTOR, StoreSettings};
use crate::ExitStatus;

/// What `vigil monitor source …` does.
pub(crate) enum SourceAction {
    /// Watch a new source.
    Add(NewSource),
    List,
    Remove {
        name: String,
    },
}

/// What `vigil monitor webhook …` does.
pub(crate) enum WebhookAction {
    Add { name: String, url: String },
    List,
    Remove { name: String },
}

/// `vigil monitor run`'s settings.
pub(crate) struct RunSettings {
    pub(crate) options: MonitorOptions,
    /// A status line on stderr (when it is a terminal).
    pub(crate) progress: bool,
}

/// `vigil monitor source …`.
pub(crate) fn source(
    store: &StoreSettings,
    action: SourceAction,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let store = store.open()?;
    match action {
        SourceAction::Add(new) => {
            let source = store
                .add_source(&new, ACTOR)
                .context("cannot add the source")?;
            writeln!(out, "{}", source_json(&source))?;
        }
        SourceAction::List => {
            for source in store.sources()? {
                writeln!(out, "{}", source_json(&source))?;
            }
        }
        SourceAction::Remove { name } => {
            if !store.remove_source(&name, ACTOR)? {
                bail!("no source named {name:?}");
            }
            writeln!(out, "{}", json!({ "removed": name }))?;
        }
    }
    Ok(ExitStatus::Success)
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
    action: WebhookAction,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let store = store.open()?;
    match action {
        WebhookAction::Add { name, url } => {
            let hook = store
                .add_webhook(&name, &url, ACTOR)
                .context("cannot add the webhook")?;
            writeln!(out, "{}", json!({ "name": hook.name, "url": hook.url }))?;
        }
        WebhookAction::List => {
            for hook in store.webhooks()? {
                writeln!(out, "{}", json!({ "name": hook.name, "url": hook.url }))?;
            }
        }
        WebhookAction::Remove { name } => {
            if !store.remove_webhook(&name, ACTOR)? {
                bail!("no webhook named {name:?}");
            }
            writeln!(out, "{}", json!({ "removed": name }))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// How long a stopped monitor waits for blocking work left running (store
/// writes finish well within it) before the process exits anyway: with the
/// monitor's own 0.5 s of grace, a stop takes under 1 s, well under the 2 s
/// promised.
const STOP_TIMEOUT: Duration = Duration::from_millis(200);

/// `vigil monitor run`.
pub(crate) fn run(store: &StoreSettings, settings: RunSettings) -> anyhow::Result<ExitStatus> {
    let RunSettings { options, progress } = settings;
    if options.policy.allow_private {
        tracing::warn!("--allow-private: links may reach this machine's own network");
    }
    let store = store.open()?;
    let engine = Arc::new(Engine::open(Arc::clone(&store)).context("cannot index the store")?);
    let sources = store.sources()?;
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
        // The store's last reference (this one or the engine's) must drop
        // outside the runtime: the PostgreSQL client blocks on its own
        // runtime when it closes.
        let monitor = Monitor::new(Arc::clone(&engine), Arc::clone(&store), options)
            .context("cannot set up the monitor")?;
        eprintln!(
            "vigil: monitoring {} sources; Ctrl-C stops (the next run resumes)",
            sources.len()
        );
        let line =
            (progress && std::io::stderr().is_terminal()).then(|| status_line(monitor.clone()));
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
    let filter = SightingFilter {
        matched_only,
        ..SightingFilter::default()
    };
    for record in list_sightings(&*store, filter)? {
        writeln!(out, "{}", serde_json::to_string(&record?)?)?;
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
