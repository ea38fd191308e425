//! Exchanges: sources of signals shared by other parties, fetched into the
//! bank of the exchange's name.
//!
//! Each fetch reads the source's whole current state as records keyed as
//! HMA keys them (`"<signal_type> <signal>"`), then makes the bank equal to
//! it: records not yet banked are added (with the exchange and key as
//! provenance), banked records the source no longer has are deleted, the
//! rest are left alone (same content ids across fetches). Applying the same
//! state twice changes nothing, so a fetch that dies halfway is completed
//! by the next one; the checkpoint is saved only after the bank is updated.
//!
//! Types:
//! - `sample`: HMA's sample exchange, the 16 PDQ and 2 `video_md5` example
//!   signals, in HMA's order. No checkpoint: every fetch is complete.
//! - `local_file`: a file of `<signal_type> <signal>` lines (or bare
//!   signals when the config names a `signal_type`); blank lines and `#`
//!   comments are skipped. The checkpoint is the file's size and
//!   modification time: an unchanged file is not read again. Files are
//!   read only from the directory the operator configured
//!   ([`ExchangeSettings::local_file_dir`]), never from a path an API
//!   caller chose.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde_json::{Value, json};
use vigil_store::{
    BankName, Exchange, ExchangeStatus, NewContent, Provenance, SignalType, Signals, unix_now,
};

use crate::{Engine, Error, Missing};

/// Exchange types this build can fetch, as `GET /c/exchanges/apis` lists
/// them.
pub const EXCHANGE_APIS: [&str; 2] = ["sample", "local_file"];

/// HMA's sample signals, in its order (clients' tests depend on it).
const SAMPLE_PDQ: [&str; 16] = [
    "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
    "f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22",
    "f8f8f0cee0f4a84f0637022a038f67f0b36e26d596621e1d33e6b39c4e9c9b22",
    "f8f8f0cee0f4a84f06370a2a068f67f0b36e26d596621e1d33e6339c4e9c9b22",
    "f8f8f0cee0f4a84f06370a22038f67f0b36e2ed596221e1d33e6b39c4e9c9b22",
    "f8f8f0cee0f4a84f0e370a22038f67f0b36e2ed596221e1d33e6b39c4a9c9b22",
    "d8f8f0cec0f4a84f8e370a22038f67f0b36a2ed597231e1d72e6b39c4a9c9b22",
    "f8f8f0cee0f4a84f06370a22038f67f0b36e2ed596621e1d33e6339c4e9c9b22",
    "d0f8f1ccc0f4a84d0a370a3a228f67f0b36e2ed5b6623e1d33e6339c4e9c9b22",
    "d8f8f1eec0f4a84f0e37022a078f63f0b36e2ed596621e1d33e6239c4e9c9b22",
    "d8f8f0cec4f4a84f0637022a078f67f0b36e2ee5b6621e1d33e6239c4e9c9b22",
    "d8f8f0cec0f4a84f0637022a278f67f0b36e2ed596621e1d33e6339c4e9c9b22",
    "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064",
    "6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d",
    "c186f9619659658c4b6916daf934496985f4259c72c39676ab9edb631c3c349c",
    "62c9789627838f69f23cf98c29e37836d61c87c31c59587c4b49a783f496725c",
];
const SAMPLE_VIDEO_MD5: [&str; 2] = [
    "cab08b36195edb1a1231d2d09fa450e0",
    "d41d8cd98f00b204e9800998ecf8427e",
];

/// Signal types an exchange record may carry.
const RECORD_TYPES: [SignalType; 4] = [
    SignalType::Pdq,
    SignalType::Md5,
    SignalType::Sha256,
    SignalType::VideoMd5,
];

/// Operator settings for fetching, which API callers cannot change.
#[derive(Debug, Clone, Default)]
pub struct ExchangeSettings {
    /// The directory `local_file` exchanges read from; `None` disables them.
    pub local_file_dir: Option<PathBuf>,
}

/// One field of an exchange type's configuration, as HMA's `/schema`
/// describes it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConfigField {
    /// Field name in `api_json`.
    pub name: &'static str,
    /// `string`, `number`, `boolean`, `enum`, …
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Whether the field must be given.
    pub required: bool,
    /// Its default, if any.
    pub default: Value,
    /// What it means.
    pub help: &'static str,
    /// Allowed values for an `enum`.
    pub choices: Option<Vec<&'static str>>,
}

/// The configuration fields of exchange type `api`, or `None` if unknown.
pub fn config_fields(api: &str) -> Option<Vec<ConfigField>> {
    match api {
        "sample" => Some(Vec::new()),
        "local_file" => Some(vec![
            ConfigField {
                name: "filename",
                kind: "string",
                required: true,
                default: Value::Null,
                help: "file in the server's exchange directory: `<signal_type> <signal>` lines",
                choices: None,
            },
            ConfigField {
                name: "signal_type",
                kind: "enum",
                required: false,
                default: Value::Null,
                help: "the type of every line, when lines hold only the signal",
                choices: Some(RECORD_TYPES.iter().map(|t| t.as_str()).collect()),
            },
        ]),
        _ => None,
    }
}

/// Checks `config` against exchange type `api`; returns the config to store
/// (unknown fields refused, as a typo would otherwise be silently ignored).
pub fn validate_config(api: &str, config: &Value) -> Result<Value, Error> {
    let fields = config_fields(api)
        .ok_or_else(|| Error::Invalid(format!("No such exchange type '{api}'")))?;
    let Value::Object(object) = config else {
        return Err(Error::Invalid("Field `api_json` must be object".into()));
    };
    for key in object.keys() {
        if !fields.iter().any(|f| f.name == key) {
            return Err(Error::Invalid(format!(
                "Failed to parse `api_json` - unknown field `{key}` for {api}"
            )));
        }
    }
    for field in &fields {
        match object.get(field.name) {
            None | Some(Value::Null) if field.required => {
                return Err(Error::Invalid(format!(
                    "Failed to parse `api_json` - missing field `{}`",
                    field.name
                )));
            }
            Some(Value::String(value)) if field.kind == "enum" => {
                if !field.choices.iter().flatten().any(|c| c == value) {
                    return Err(Error::Invalid(format!(
                        "Failed to parse `api_json` - `{}` must be one of {:?}",
                        field.name, field.choices
                    )));
                }
            }
            Some(Value::String(_) | Value::Null) | None => {}
            Some(_) => {
                return Err(Error::Invalid(format!(
                    "Failed to parse `api_json` - `{}` must be a string",
                    field.name
                )));
            }
        }
    }
    if let Some(Value::String(filename)) = object.get("filename") {
        safe_relative_path(filename)?;
    }
    Ok(config.clone())
}

/// A relative path that stays inside the directory it is joined to.
fn safe_relative_path(name: &str) -> Result<&Path, Error> {
    let path = Path::new(name);
    let inside = !name.is_empty()
        && path
            .components()
            .all(|component| matches!(component, Component::Normal(_)));
    if inside {
        Ok(path)
    } else {
        Err(Error::Invalid(format!(
            "Failed to parse `api_json` - filename {name:?} must be a relative path inside the exchange directory"
        )))
    }
}

/// One fetched state: records by key, and the checkpoint reached.
struct Snapshot {
    records: Vec<(String, Signals)>,
    checkpoint: Option<Value>,
}

impl Engine {
    /// Every exchange, by name.
    pub fn exchanges(&self) -> Result<Vec<Exchange>, Error> {
        Ok(self.store.exchanges()?)
    }

    /// The exchange `name`.
    pub fn exchange(&self, name: &BankName) -> Result<Exchange, Error> {
        self.store
            .exchange(name)?
            .ok_or_else(|| Missing::Exchange(name.to_string()).into())
    }

    /// Turns the fetching of exchange `name` on or off; returns it changed.
    pub fn set_exchange_enabled(
        &self,
        name: &BankName,
        enabled: bool,
        actor: &str,
    ) -> Result<Exchange, Error> {
        self.store
            .set_exchange_enabled(name, enabled, actor)?
            .ok_or_else(|| Missing::Exchange(name.to_string()).into())
    }

    /// Creates an exchange of type `api` and its bank.
    pub fn create_exchange(
        &self,
        name: &BankName,
        api: &str,
        config: &Value,
        actor: &str,
    ) -> Result<Exchange, Error> {
        let config = validate_config(api, config)?;
        let exchange = self.store.create_exchange(name, api, &config, actor)?;
        self.sync()?;
        Ok(exchange)
    }

    /// Deletes an exchange with its bank and contents.
    pub fn delete_exchange(&self, name: &BankName, actor: &str) -> Result<bool, Error> {
        let deleted = self.store.delete_exchange(name, actor)?;
        self.sync()?;
        Ok(deleted)
    }

    /// Fetches every enabled exchange; failures are recorded in each
    /// exchange's status and do not stop the others. Returns the statuses.
    pub fn fetch_exchanges(
        &self,
        settings: &ExchangeSettings,
    ) -> Result<Vec<(BankName, ExchangeStatus)>, Error> {
        let mut statuses = Vec::new();
        for exchange in self.store.exchanges()? {
            if exchange.enabled {
                let status = self.fetch_exchange(&exchange.name, settings)?;
                statuses.push((exchange.name, status));
            }
        }
        Ok(statuses)
    }

    /// Fetches one exchange now and brings its bank up to date. A failure
    /// of the source (unreadable file, bad line) is recorded in the status
    /// and returned in it; only a store failure is an `Err`.
    pub fn fetch_exchange(
        &self,
        name: &BankName,
        settings: &ExchangeSettings,
    ) -> Result<ExchangeStatus, Error> {
        let exchange = self.exchange(name)?;
        let mut status = exchange.status.clone();
        status.running_fetch_start_ts = Some(unix_now());
        self.store.save_exchange_status(name, &status)?;

        let outcome = snapshot(&exchange, settings).and_then(|snapshot| match snapshot {
            None => Ok(None),
            Some(snapshot) => self.apply(&exchange, &snapshot).map(|()| Some(snapshot)),
        });
        status.running_fetch_start_ts = None;
        status.last_fetch_complete_ts = Some(unix_now());
        match outcome {
            Ok(Some(snapshot)) => {
                status.fetched_items = snapshot.records.len() as i64;
                status.checkpoint = snapshot.checkpoint;
                status.checkpoint_ts = Some(unix_now().max(status.checkpoint_ts.unwrap_or(0)));
                status.up_to_date = true;
                status.last_fetch_succeeded = Some(true);
                status.last_error = None;
            }
            Ok(None) => {
                status.up_to_date = true;
                status.last_fetch_succeeded = Some(true);
                status.last_error = None;
            }
            // The store failing, or the bank gone under the fetch, is not
            // the source's fault.
            Err(error @ (Error::Store(_) | Error::NotFound(_))) => return Err(error),
            Err(error) => {
                tracing::warn!(exchange = %name, %error, "exchange fetch failed");
                status.up_to_date = false;
                status.last_fetch_succeeded = Some(false);
                status.last_error = Some(error.to_string());
            }
        }
        self.store.save_exchange_status(name, &status)?;
        Ok(status)
    }

    /// Makes the exchange's bank hold exactly `snapshot`'s records.
    fn apply(&self, exchange: &Exchange, snapshot: &Snapshot) -> Result<(), Error> {
        let exchange_name = exchange.name.to_string();
        let mut banked: HashMap<String, i64> = HashMap::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .contents_after(Some(&exchange.name), after, 10_000)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for content in page {
                match content.fields.provenance {
                    Some(p) if p.exchange == exchange_name => {
                        banked.insert(p.fetch_id, content.id);
                    }
                    _ => {}
                }
            }
        }
        let wanted: HashSet<&str> = snapshot.records.iter().map(|(k, _)| k.as_str()).collect();
        let actor = format!("exchange:{exchange_name}");
        let new: Vec<NewContent> = snapshot
            .records
            .iter()
            .filter(|(key, _)| !banked.contains_key(key))
            .map(|(key, signals)| NewContent {
                signals: signals.clone(),
                provenance: Some(Provenance {
                    exchange: exchange_name.clone(),
                    fetch_id: key.clone(),
                }),
                ..NewContent::default()
            })
            .collect();
        for batch in new.chunks(5_000) {
            self.store.add_contents(&exchange.name, batch, &actor)?;
        }
        let mut removed = 0;
        for (key, id) in &banked {
            if !wanted.contains(key.as_str()) {
                self.store.delete_content(*id, &actor)?;
                removed += 1;
            }
        }
        tracing::info!(exchange = %exchange_name, added = new.len(), removed, "exchange fetched");
        self.sync()?;
        Ok(())
    }
}

/// The source's current state, or `None` when the checkpoint shows nothing
/// changed.
fn snapshot(exchange: &Exchange, settings: &ExchangeSettings) -> Result<Option<Snapshot>, Error> {
    match exchange.api.as_str() {
        "sample" => {
            let pdq = SAMPLE_PDQ.iter().map(|s| ("pdq", *s));
            let md5 = SAMPLE_VIDEO_MD5.iter().map(|s| ("video_md5", *s));
            let records = pdq
                .chain(md5)
                .map(|(signal_type, signal)| record(signal_type, signal))
                .collect::<Result<_, _>>()?;
            Ok(Some(Snapshot {
                records,
                checkpoint: None,
            }))
        }
        "local_file" => local_file(exchange, settings),
        other => Err(Error::Invalid(format!("No such exchange type '{other}'"))),
    }
}

fn record(name: &str, signal: &str) -> Result<(String, Signals), Error> {
    let Some(signal_type) = RECORD_TYPES.into_iter().find(|t| t.as_str() == name) else {
        return Err(Error::Invalid(format!("unknown signal type {name:?}")));
    };
    let mut signals = Signals::default();
    signals.insert(signal_type, signal)?;
    let normalised = signals.get(signal_type).unwrap_or(signal).to_owned();
    Ok((format!("{signal_type} {normalised}"), signals))
}

/// Reads HMA's `local_file` format: `<signal_type> <signal>` per line (or
/// bare signals when `fixed_type` is given), blank lines and `#` comments
/// skipped, duplicates kept once. Returns records keyed as HMA keys them;
/// the first bad line fails the whole file, naming its number.
pub fn parse_signal_lines(
    input: impl BufRead,
    fixed_type: Option<&str>,
) -> Result<Vec<(String, Signals)>, Error> {
    let mut records = Vec::new();
    let mut seen = HashSet::new();
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (signal_type, signal) = match (fixed_type, words.next(), words.next(), words.next()) {
            (Some(t), Some(signal), None, None) => (t, signal),
            (_, Some(t), Some(signal), None) => (t, signal),
            _ => {
                return Err(Error::ImportLine {
                    line: index as u64 + 1,
                    reason: "expected `<signal_type> <signal>`".into(),
                });
            }
        };
        let (key, signals) = record(signal_type, signal).map_err(|e| Error::ImportLine {
            line: index as u64 + 1,
            reason: e.to_string(),
        })?;
        if seen.insert(key.clone()) {
            records.push((key, signals));
        }
    }
    Ok(records)
}

fn local_file(exchange: &Exchange, settings: &ExchangeSettings) -> Result<Option<Snapshot>, Error> {
    let dir = settings.local_file_dir.as_deref().ok_or_else(|| {
        Error::Invalid(
            "local_file exchanges are off: start the server with --exchange-dir DIR".into(),
        )
    })?;
    let filename = exchange
        .config
        .get("filename")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let path = dir.join(safe_relative_path(filename)?);
    let with_path = |e: std::io::Error| Error::Invalid(format!("{}: {e}", path.display()));
    let metadata = std::fs::metadata(&path).map_err(with_path)?;
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    let checkpoint = json!({ "size": metadata.len(), "modified_ns": modified });
    if exchange.status.up_to_date && exchange.status.checkpoint.as_ref() == Some(&checkpoint) {
        return Ok(None);
    }
    let fixed_type = exchange.config.get("signal_type").and_then(Value::as_str);
    let reader = std::io::BufReader::new(std::fs::File::open(&path).map_err(with_path)?);
    let records = parse_signal_lines(reader, fixed_type).map_err(|e| match e {
        Error::Io(e) => with_path(e),
        other => other,
    })?;
    Ok(Some(Snapshot {
        records,
        checkpoint: Some(checkpoint),
    }))
}
