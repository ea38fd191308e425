//! [`PostgresStore`]: the store on PostgreSQL, for several nodes sharing
//! one database.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use postgres::types::ToSql;
use postgres::{Client, NoTls, Transaction};
use serde_json::json;

mod access;
mod exchanges;
mod monitor;

use crate::{
    AuditEntry, Bank, BankName, Change, Content, ContentUpdate, Error, IndexedContent, Labels,
    Metadata, NewContent, Provenance, Signals, Store,
};

/// Schema migrations, applied in order at connect; the index is the version.
const MIGRATIONS: &[&str] = &[
    include_str!("0001_init.sql"),
    include_str!("0002_tokens_exchanges.sql"),
    include_str!("0003_no_signal_value_index.sql"),
    include_str!("0004_monitor.sql"),
];

/// Key of the transaction-level advisory lock every write takes: writers are
/// serialised so that change-log sequence numbers become visible in order
/// (a follower reading "after seq N" can never miss an earlier commit).
const WRITE_LOCK: i64 = 0x5649_4749_4c57; // "VIGILW"

type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Contents inserted per round trip.
const BATCH: usize = 5_000;

/// The store on PostgreSQL.
pub struct PostgresStore {
    client: Mutex<Client>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/database`), uses the
    /// schema `schema` (created if missing; `public` when `None`) and brings
    /// it up to date.
    pub fn connect(url: &str, schema: Option<&str>) -> Result<Self, Error> {
        let mut client = Client::connect(url, NoTls)?;
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                || schema.is_empty()
            {
                return Err(Error::Invalid(format!(
                    "schema name {schema:?} must be letters, digits and _"
                )));
            }
            client.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
            ))?;
        }
        migrate(&mut client)?;
        Ok(Self {
            client: Mutex::new(client),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Client> {
        // A failed call rolls its transaction back on drop, so the client is
        // usable even if a panic poisoned the mutex.
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in a write transaction holding the store's write lock.
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut client = self.lock();
        let mut transaction = client.transaction()?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        let value = f(&mut transaction)?;
        transaction.commit()?;
        Ok(value)
    }
}

fn migrate(client: &mut Client) -> Result<(), Error> {
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    transaction.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )?;
    let current: i64 = transaction
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .get(0);
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(Error::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        transaction.batch_execute(sql)?;
        let version = index as i64 + 1;
        transaction.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&version, &crate::unix_now()],
        )?;
    }
    transaction.commit()?;
    Ok(())
}

pub(super) fn audit(
    transaction: &mut Transaction<'_>,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), Error> {
    transaction.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
        &[
            &crate::unix_now(),
            &actor,
            &action,
            &target,
            &detail.to_string(),
        ],
    )?;
    Ok(())
}

fn log_change(transaction: &mut Transaction<'_>, kind: &str, object_id: i64) -> Result<(), Error> {
    transaction.execute(
        "INSERT INTO change_log (kind, object_id) VALUES ($1, $2)",
        &[&kind, &object_id],
    )?;
    Ok(())
}

pub(super) fn find_bank(
    client: &mut impl postgres::GenericClient,
    name: &BankName,
) -> Result<Option<Bank>, Error> {
    let row = client.query_opt(
        "SELECT id, name, enabled_ratio FROM bank WHERE name = $1",
        &[&name.as_str()],
    )?;
    row.map(|row| to_bank(&row)).transpose()
}

fn to_bank(row: &postgres::Row) -> Result<Bank, Error> {
    let name: String = row.get(1);
    Ok(Bank {
        id: row.get(0),
        name: name
            .parse()
            .map_err(|_| Error::Corrupt(format!("bank name {name:?}")))?,
        enabled_ratio: row.get(2),
    })
}

fn load_contents(
    client: &mut impl postgres::GenericClient,
    where_clause: &str,
    args: &Params<'_>,
) -> Result<Vec<Content>, Error> {
    let sql = format!(
        "SELECT c.id, b.name, c.disable_until_ts, c.labels::text, c.metadata::text, c.note, \
         c.provenance_exchange, c.provenance_fetch_id, c.created_at \
         FROM content c JOIN bank b ON b.id = c.bank_id WHERE {where_clause}"
    );
    let rows = client.query(&sql, args)?;
    // Signals of the whole page in one query.
    let ids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
    let mut signals: HashMap<i64, Signals> = HashMap::with_capacity(ids.len());
    for row in client.query(
        "SELECT content_id, signal_type, value FROM content_signal WHERE content_id = ANY($1)",
        &[&ids],
    )? {
        let id: i64 = row.get(0);
        let (signal_type, value): (&str, &str) = (row.get(1), row.get(2));
        signals
            .entry(id)
            .or_default()
            .insert_named(signal_type, value)
            .map_err(|e| Error::Corrupt(format!("content {id} signal: {e}")))?;
    }
    rows.iter()
        .map(|row| {
            let id: i64 = row.get(0);
            let corrupt =
                |what: &str, e: String| Error::Corrupt(format!("content {id} {what}: {e}"));
            let labels: Labels =
                serde_json::from_str(row.get(3)).map_err(|e| corrupt("labels", e.to_string()))?;
            let metadata: Metadata =
                serde_json::from_str(row.get(4)).map_err(|e| corrupt("metadata", e.to_string()))?;
            let bank: String = row.get(1);
            let exchange: Option<String> = row.get(6);
            let fetch_id: Option<String> = row.get(7);
            Ok(Content {
                id,
                bank: bank.parse().map_err(|_| corrupt("bank", bank.clone()))?,
                fields: NewContent {
                    signals: signals.remove(&id).unwrap_or_default(),
                    labels,
                    metadata,
                    note: row.get(5),
                    provenance: exchange
                        .zip(fetch_id)
                        .map(|(exchange, fetch_id)| Provenance { exchange, fetch_id }),
                },
                disable_until_ts: row.get(2),
                created_at: row.get(8),
            })
        })
        .collect()
}

/// Creates a bank inside `transaction` (shared by banks and exchanges).
pub(super) fn insert_bank(
    transaction: &mut Transaction<'_>,
    name: &BankName,
    enabled_ratio: f64,
    actor: &str,
) -> Result<Bank, Error> {
    crate::validate::ratio(enabled_ratio)?;
    if find_bank(transaction, name)?.is_some() {
        return Err(Error::BankExists(name.to_string()));
    }
    let id: i64 = transaction
        .query_one(
            "INSERT INTO bank (name, enabled_ratio, created_at) VALUES ($1, $2, $3) RETURNING id",
            &[&name.as_str(), &enabled_ratio, &crate::unix_now()],
        )?
        .get(0);
    audit(
        transaction,
        actor,
        "bank.create",
        &format!("bank:{name}"),
        json!({ "enabled_ratio": enabled_ratio }),
    )?;
    Ok(Bank {
        id,
        name: name.clone(),
        enabled_ratio,
    })
}

impl Store for PostgresStore {
    fn create_bank(&self, name: &BankName, enabled_ratio: f64, actor: &str) -> Result<Bank, Error> {
        self.write(|transaction| insert_bank(transaction, name, enabled_ratio, actor))
    }

    fn banks(&self) -> Result<Vec<Bank>, Error> {
        let mut client = self.lock();
        let rows = client.query(
            "SELECT id, name, enabled_ratio FROM bank ORDER BY name",
            &[],
        )?;
        rows.iter().map(to_bank).collect()
    }

    fn bank(&self, name: &BankName) -> Result<Option<Bank>, Error> {
        find_bank(&mut *self.lock(), name)
    }

    fn update_bank(
        &self,
        name: &BankName,
        new_name: Option<&BankName>,
        enabled_ratio: Option<f64>,
        actor: &str,
    ) -> Result<Bank, Error> {
        if let Some(ratio) = enabled_ratio {
            crate::validate::ratio(ratio)?;
        }
        self.write(|transaction| {
            let mut bank = find_bank(transaction, name)?
                .ok_or_else(|| Error::BankNotFound(name.to_string()))?;
            if let Some(new_name) = new_name.filter(|n| *n != name) {
                if find_bank(transaction, new_name)?.is_some() {
                    return Err(Error::BankExists(new_name.to_string()));
                }
                transaction.execute(
                    "UPDATE bank SET name = $1 WHERE id = $2",
                    &[&new_name.as_str(), &bank.id],
                )?;
                audit(
                    transaction,
                    actor,
                    "bank.rename",
                    &format!("bank:{name}"),
                    json!({ "to": new_name.as_str() }),
                )?;
                bank.name = new_name.clone();
            }
            if let Some(ratio) = enabled_ratio {
                transaction.execute(
                    "UPDATE bank SET enabled_ratio = $1 WHERE id = $2",
                    &[&ratio, &bank.id],
                )?;
                audit(
                    transaction,
                    actor,
                    "bank.update",
                    &format!("bank:{}", bank.name),
                    json!({ "enabled_ratio": ratio }),
                )?;
                bank.enabled_ratio = ratio;
            }
            Ok(bank)
        })
    }

    fn delete_bank(&self, name: &BankName, actor: &str) -> Result<bool, Error> {
        self.write(|transaction| {
            let Some(bank) = find_bank(transaction, name)? else {
                return Ok(false);
            };
            let contents: i64 = transaction
                .query_one(
                    "SELECT COUNT(*) FROM content WHERE bank_id = $1",
                    &[&bank.id],
                )?
                .get(0);
            transaction.execute("DELETE FROM bank WHERE id = $1", &[&bank.id])?;
            log_change(transaction, "bank_deleted", bank.id)?;
            audit(
                transaction,
                actor,
                "bank.delete",
                &format!("bank:{name}"),
                json!({ "contents": contents }),
            )?;
            Ok(true)
        })
    }

    fn import(
        &self,
        bank: &BankName,
        next: &mut dyn FnMut() -> Result<Option<NewContent>, Error>,
        added: &mut dyn FnMut(i64),
        actor: &str,
    ) -> Result<u64, Error> {
        self.write(|transaction| {
            let bank = find_bank(transaction, bank)?.ok_or_else(|| Error::BankNotFound(bank.to_string()))?;
            let created_at = crate::unix_now();
            let (mut count, mut first, mut last) = (0u64, None::<i64>, None::<i64>);
            // A few statements per batch instead of a few per content: one
            // round trip to the server costs more than inserting many rows.
            loop {
                let mut batch = Vec::with_capacity(BATCH);
                while batch.len() < BATCH {
                    let Some(content) = next()? else { break };
                    content
                        .validate()
                        .map_err(|e| Error::Invalid(format!("content {}: {e}", count + batch.len() as u64 + 1)))?;
                    batch.push(content);
                }
                if batch.is_empty() {
                    break;
                }
                let batch = &batch[..];
                let batch_len = batch.len() as i64;
                let batch_ids: Vec<i64> = transaction
                    .query("SELECT nextval('content_id_seq') FROM generate_series(1, $1::bigint)", &[&batch_len])?
                    .iter()
                    .map(|row| row.get(0))
                    .collect();
                let mut labels = Vec::with_capacity(batch.len());
                let mut metadata = Vec::with_capacity(batch.len());
                let (mut notes, mut exchanges, mut fetch_ids) = (Vec::new(), Vec::new(), Vec::new());
                let (mut signal_ids, mut signal_types, mut signal_values) = (Vec::new(), Vec::new(), Vec::new());
                for (content, &id) in batch.iter().zip(&batch_ids) {
                    labels.push(serde_json::to_string(&content.labels).map_err(|e| Error::Invalid(e.to_string()))?);
                    metadata.push(serde_json::to_string(&content.metadata).map_err(|e| Error::Invalid(e.to_string()))?);
                    notes.push(content.note.clone().filter(|n| !n.is_empty()));
                    exchanges.push(content.provenance.as_ref().map(|p| p.exchange.clone()));
                    fetch_ids.push(content.provenance.as_ref().map(|p| p.fetch_id.clone()));
                    for (signal_type, value) in content.signals.iter() {
                        signal_ids.push(id);
                        signal_types.push(signal_type.as_str());
                        signal_values.push(value.to_owned());
                    }
                }
                transaction.execute(
                    "INSERT INTO content (id, bank_id, labels, metadata, note, provenance_exchange, provenance_fetch_id, created_at) \
                     SELECT id, $2, l::jsonb, m::jsonb, n, e, f, $8 \
                     FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(id, l, m, n, e, f)",
                    &[&batch_ids, &bank.id, &labels, &metadata, &notes, &exchanges, &fetch_ids, &created_at],
                )?;
                transaction.execute(
                    "INSERT INTO content_signal (content_id, signal_type, value) \
                     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])",
                    &[&signal_ids, &signal_types, &signal_values],
                )?;
                transaction.execute(
                    "INSERT INTO change_log (kind, object_id) \
                     SELECT 'content', id FROM unnest($1::bigint[]) WITH ORDINALITY AS t(id, n) ORDER BY n",
                    &[&batch_ids],
                )?;
                count += batch.len() as u64;
                first = first.or(batch_ids.first().copied());
                last = batch_ids.last().copied().or(last);
                for &id in &batch_ids {
                    added(id);
                }
            }
            audit(transaction, actor, "content.add", &format!("bank:{}", bank.name), json!({ "count": count, "first_id": first, "last_id": last }))?;
            Ok(count)
        })
    }

    fn count_contents(&self, bank: &BankName) -> Result<u64, Error> {
        let count: i64 = self
            .lock()
            .query_one(
                "SELECT COUNT(*) FROM content c JOIN bank b ON b.id = c.bank_id WHERE b.name = $1",
                &[&bank.as_str()],
            )?
            .get(0);
        Ok(count as u64)
    }

    fn content(&self, id: i64) -> Result<Option<Content>, Error> {
        Ok(load_contents(&mut *self.lock(), "c.id = $1", &[&id])?.pop())
    }

    fn update_content(
        &self,
        id: i64,
        update: &ContentUpdate,
        actor: &str,
    ) -> Result<Option<Content>, Error> {
        crate::validate::update(update)?;
        let found = self.write(|transaction| {
            if transaction
                .query_opt("SELECT id FROM content WHERE id = $1", &[&id])?
                .is_none()
            {
                return Ok(false);
            }
            if let Some(ts) = update.disable_until_ts {
                transaction.execute(
                    "UPDATE content SET disable_until_ts = $1 WHERE id = $2",
                    &[&ts, &id],
                )?;
            }
            if let Some(note) = &update.note {
                let note = note.as_deref().filter(|n| !n.is_empty());
                transaction.execute("UPDATE content SET note = $1 WHERE id = $2", &[&note, &id])?;
            }
            if let Some(labels) = &update.labels {
                let labels =
                    serde_json::to_string(labels).map_err(|e| Error::Invalid(e.to_string()))?;
                transaction.execute(
                    "UPDATE content SET labels = $1::text::jsonb WHERE id = $2",
                    &[&labels, &id],
                )?;
            }
            log_change(transaction, "content", id)?;
            audit(
                transaction,
                actor,
                "content.update",
                &format!("content:{id}"),
                json!({
                    "disable_until_ts": update.disable_until_ts,
                    "note": update.note.is_some(),
                    "labels": update.labels.is_some(),
                }),
            )?;
            Ok(true)
        })?;
        if found { self.content(id) } else { Ok(None) }
    }

    fn delete_content(&self, id: i64, actor: &str) -> Result<bool, Error> {
        self.write(|transaction| {
            let deleted = transaction.execute("DELETE FROM content WHERE id = $1", &[&id])? > 0;
            if deleted {
                log_change(transaction, "content_deleted", id)?;
                audit(
                    transaction,
                    actor,
                    "content.delete",
                    &format!("content:{id}"),
                    json!({}),
                )?;
            }
            Ok(deleted)
        })
    }

    fn contents_after(
        &self,
        bank: Option<&BankName>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Content>, Error> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut client = self.lock();
        match bank {
            Some(bank) => {
                let name = bank.as_str();
                load_contents(
                    &mut *client,
                    "b.name = $1 AND c.id > $2 ORDER BY c.id LIMIT $3",
                    &[&name, &after, &limit],
                )
            }
            None => load_contents(
                &mut *client,
                "c.id > $1 ORDER BY c.id LIMIT $2",
                &[&after, &limit],
            ),
        }
    }

    fn indexed_after(&self, after: i64, limit: usize) -> Result<Vec<IndexedContent>, Error> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut client = self.lock();
        let mut contents: Vec<IndexedContent> = client
            .query(
                "SELECT id, bank_id, disable_until_ts FROM content WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &limit],
            )?
            .iter()
            .map(|row| IndexedContent {
                id: row.get(0),
                bank_id: row.get(1),
                disable_until_ts: row.get(2),
                signals: Signals::default(),
            })
            .collect();
        let (Some(first), Some(last)) = (
            contents.first().map(|c| c.id),
            contents.last().map(|c| c.id),
        ) else {
            return Ok(contents);
        };
        for row in client.query(
            "SELECT content_id, signal_type, value FROM content_signal WHERE content_id BETWEEN $1 AND $2",
            &[&first, &last],
        )? {
            let id: i64 = row.get(0);
            if let Ok(at) = contents.binary_search_by_key(&id, |c| c.id) {
                contents[at]
                    .signals
                    .insert_named(row.get(1), row.get(2))
                    .map_err(|e| Error::Corrupt(format!("content {id} signal: {e}")))?;
            }
        }
        Ok(contents)
    }

    fn last_change(&self) -> Result<i64, Error> {
        Ok(self
            .lock()
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM change_log", &[])?
            .get(0))
    }

    fn changes_after(&self, seq: i64, limit: usize) -> Result<Vec<Change>, Error> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let rows = self.lock().query(
            "SELECT seq, kind, object_id FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&seq, &limit],
        )?;
        rows.iter()
            .map(|row| {
                let (seq, kind, id): (i64, &str, i64) = (row.get(0), row.get(1), row.get(2));
                let kind = crate::validate::change_kind(seq, kind, id)?;
                Ok(Change { seq, kind })
            })
            .collect()
    }

    fn audit_after(&self, seq: i64, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let rows = self.lock().query(
            "SELECT seq, at, actor, action, target, detail FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&seq, &limit],
        )?;
        Ok(rows
            .iter()
            .map(|row| AuditEntry {
                seq: row.get(0),
                at: row.get(1),
                actor: row.get(2),
                action: row.get(3),
                target: row.get(4),
                detail: row.get(5),
            })
            .collect())
    }
}
