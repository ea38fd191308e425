//! `vigil bank …`: create, list, show, rename, delete, and add files.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;
use vigil_media::HashOptions;
use vigil_store::{Labels, NewContent};

use super::hash::hash_files;
use super::store_access::{ACTOR, StoreSettings, bank_name};
use crate::ExitStatus;

/// A bank command with resolved arguments.
#[derive(Debug, Clone)]
pub(crate) enum BankAction {
    Create {
        name: String,
        enabled_ratio: f64,
        exist_ok: bool,
    },
    List,
    Show {
        name: String,
    },
    Rename {
        name: String,
        new_name: String,
    },
    Delete {
        name: String,
    },
    Add(Box<AddSettings>),
}

/// Resolved settings for `vigil bank add`.
#[derive(Debug, Clone)]
pub(crate) struct AddSettings {
    pub(crate) bank: String,
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) labels: Vec<String>,
    pub(crate) note: Option<String>,
    pub(crate) options: HashOptions,
}

pub(crate) fn run(
    store: &StoreSettings,
    action: BankAction,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    match action {
        BankAction::Create {
            name,
            enabled_ratio,
            exist_ok,
        } => {
            let store = store.open()?;
            let name = bank_name(&name)?;
            let bank = match store.create_bank(&name, enabled_ratio, ACTOR) {
                Err(vigil_store::Error::BankExists(_)) if exist_ok => store.bank(&name)?,
                other => Some(other?),
            };
            writeln!(out, "{}", serde_json::to_string(&bank)?)?;
        }
        BankAction::List => {
            for bank in store.open()?.banks()? {
                writeln!(out, "{}", serde_json::to_string(&bank)?)?;
            }
        }
        BankAction::Show { name } => {
            let store = store.open()?;
            let name = bank_name(&name)?;
            let bank = store
                .bank(&name)?
                .ok_or_else(|| vigil_store::Error::BankNotFound(name.to_string()))?;
            let contents = store.count_contents(&name)?;
            writeln!(
                out,
                "{}",
                json!({ "id": bank.id, "name": bank.name, "enabled_ratio": bank.enabled_ratio, "contents": contents })
            )?;
        }
        BankAction::Rename { name, new_name } => {
            let bank = store.open()?.update_bank(
                &bank_name(&name)?,
                Some(&bank_name(&new_name)?),
                None,
                ACTOR,
            )?;
            writeln!(out, "{}", serde_json::to_string(&bank)?)?;
        }
        BankAction::Delete { name } => {
            let deleted = store.open()?.delete_bank(&bank_name(&name)?, ACTOR)?;
            writeln!(out, "{}", json!({ "bank": name, "deleted": deleted }))?;
        }
        BankAction::Add(settings) => return add(store, &settings, out),
    }
    Ok(ExitStatus::Success)
}

/// Hashes each file and adds it to the bank; one JSON line per file.
fn add(
    store: &StoreSettings,
    settings: &AddSettings,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let mut labels = Labels::default();
    for label in &settings.labels {
        let (key, value) = label.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("label {label:?} must be key=value, e.g. tier=crisis")
        })?;
        labels.set(key.trim(), value)?;
    }
    let bank = bank_name(&settings.bank)?;
    let store = store.open()?;
    if store.bank(&bank)?.is_none() {
        anyhow::bail!("bank {bank} not found; create it with `vigil bank create {bank}`");
    }
    let hashed = hash_files(&settings.paths, &settings.options);
    let mut failed = false;
    for (path, result) in hashed {
        let line = match result.map_err(anyhow::Error::msg).and_then(|hashed| {
            let content = NewContent {
                signals: hashed.signals.compacted(),
                labels: labels.clone(),
                note: settings.note.clone(),
                ..NewContent::default()
            };
            // A PDF's embedded images are items of their own, noted as such.
            let parts: Vec<NewContent> = hashed
                .parts
                .iter()
                .map(|part| NewContent {
                    signals: part.signals.clone(),
                    labels: labels.clone(),
                    note: Some(
                        format!("{} of {path}", part.label)
                            .chars()
                            .take(255)
                            .collect(),
                    ),
                    ..NewContent::default()
                })
                .collect();
            let all: Vec<NewContent> = std::iter::once(content).chain(parts).collect();
            let ids = store.add_contents(&bank, &all, ACTOR)?;
            Ok((ids, all, hashed.parts))
        }) {
            Ok((ids, all, parts)) => {
                let mut line =
                    json!({ "path": path, "bank": bank, "id": ids[0], "signals": all[0].signals });
                if !parts.is_empty() {
                    line["parts"] = parts
                        .iter()
                        .zip(ids.iter().zip(&all).skip(1))
                        .map(|(part, (id, content))| {
                            json!({ "part": part.label, "id": id, "signals": content.signals })
                        })
                        .collect();
                }
                line
            }
            Err(error) => {
                failed = true;
                json!({ "path": path, "error": format!("{error:#}") })
            }
        };
        writeln!(out, "{line}")?;
    }
    Ok(if failed {
        ExitStatus::InputsFailed
    } else {
        ExitStatus::Success
    })
}
