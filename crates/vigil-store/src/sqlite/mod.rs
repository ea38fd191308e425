//! [`SqliteStore`]: the embedded default, one database file in WAL mode.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::json;

mod access;
mod exchanges;
mod monitor;

use crate::{
    AuditEntry, Bank, BankName, Change, Content, ContentUpdate, Error, IndexedContent, Labels,
    Metadata, NewContent, Provenance, Signals, Store,
};

/// Schema migrations, applied in order at open; the index is the version.
const MIGRATIONS: &[&str] = &[
    include_str!("0001_init.sql"),
    include_str!("0002_tokens_exchanges.sql"),
    include_str!("0003_no_signal_value_index.sql"),
    include_str!("0004_monitor.sql"),
];

/// The store on SQLite. One connection behind a mutex: SQLite serialises
/// writers anyway, and the engine reads mostly from its in-memory indexes.
pub struct SqliteStore {
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its
    /// schema up to date. A new file is readable by its owner only (0600;
    /// SQLite gives its `-wal` and `-shm` files the same mode): banks name
    /// what an organisation looks for, and tokens are stored there.
    pub fn open(path: &Path) -> Result<Self, Error> {
        create_private(path)?;
        let connection = Connection::open(path)?;
        // WAL: readers never block the writer and a crash mid-transaction
        // leaves the last committed state. FULL sync makes every commit
        // durable even across a power cut (banks must never be lost); an
        // import is one commit, so this costs one sync per import.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        Self::init(connection)
    }

    /// A private in-memory database, for tests and one-off runs.
    pub fn open_in_memory() -> Result<Self, Error> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut connection: Connection) -> Result<Self, Error> {
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(30))?;
        migrate(&mut connection)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-call rolls its transaction back when the Transaction
        // drops, so the connection is consistent even if poisoned.
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates `path` empty with mode 0600 unless it exists.
fn create_private(path: &Path) -> Result<(), Error> {
    match crate::create_private_file(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(Error::Create {
            path: path.to_owned(),
            source,
        }),
    }
}

fn migrate(connection: &mut Connection) -> Result<(), Error> {
    let transaction = begin_write(connection)?;
    transaction.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);",
    )?;
    let current: i64 = transaction.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )?;
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(Error::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        transaction.execute_batch(sql)?;
        transaction.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![index as i64 + 1, crate::unix_now()],
        )?;
    }
    transaction.commit()?;
    Ok(())
}

/// Begins a write transaction holding SQLite's write lock from the start
/// (`BEGIN IMMEDIATE`). A deferred transaction that reads and then writes
/// fails at once with "database is locked" if another process committed in
/// between (WAL cannot upgrade a stale snapshot); an immediate one waits
/// for the lock within the busy timeout instead.
pub(super) fn begin_write(connection: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

pub(super) fn audit(
    transaction: &Transaction<'_>,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), Error> {
    transaction.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![crate::unix_now(), actor, action, target, detail.to_string()],
    )?;
    Ok(())
}

fn log_change(transaction: &Transaction<'_>, kind: &str, object_id: i64) -> Result<(), Error> {
    transaction.execute(
        "INSERT INTO change_log (kind, object_id) VALUES (?1, ?2)",
        params![kind, object_id],
    )?;
    Ok(())
}

fn bank_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, f64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn to_bank((id, name, enabled_ratio): (i64, String, f64)) -> Result<Bank, Error> {
    Ok(Bank {
        id,
        name: name
            .parse()
            .map_err(|_| Error::Corrupt(format!("bank name {name:?}")))?,
        enabled_ratio,
    })
}

pub(super) fn find_bank(connection: &Connection, name: &BankName) -> Result<Option<Bank>, Error> {
    connection
        .query_row(
            "SELECT id, name, enabled_ratio FROM bank WHERE name = ?1",
            [name.as_str()],
            bank_row,
        )
        .optional()?
        .map(to_bank)
        .transpose()
}

const CONTENT_COLUMNS: &str = "c.id, b.name, c.disable_until_ts, c.labels, c.metadata, c.note, \
     c.provenance_exchange, c.provenance_fetch_id, c.created_at";

/// Reads contents selected by `where_clause` (over `content c JOIN bank b`)
/// with their signals.
fn load_contents(
    connection: &Connection,
    where_clause: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Content>, Error> {
    let sql = format!(
        "SELECT {CONTENT_COLUMNS} FROM content c JOIN bank b ON b.id = c.bank_id WHERE {where_clause}"
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement.query_map(args, |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, Option<String>>(5)?,
            row.get::<_, Option<String>>(6)?,
            row.get::<_, Option<String>>(7)?,
            row.get::<_, i64>(8)?,
        ))
    })?;
    let mut signals = connection
        .prepare_cached("SELECT signal_type, value FROM content_signal WHERE content_id = ?1")?;
    let mut contents = Vec::new();
    for row in rows {
        let (id, bank, disable_until_ts, labels, metadata, note, exchange, fetch_id, created_at) =
            row?;
        let corrupt = |what: &str, e: String| Error::Corrupt(format!("content {id} {what}: {e}"));
        let labels: Labels =
            serde_json::from_str(&labels).map_err(|e| corrupt("labels", e.to_string()))?;
        let metadata: Metadata =
            serde_json::from_str(&metadata).map_err(|e| corrupt("metadata", e.to_string()))?;
        let mut content_signals = Signals::default();
        for pair in signals.query_map([id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })? {
            let (signal_type, value) = pair?;
            content_signals
                .insert_named(&signal_type, &value)
                .map_err(|e| corrupt("signal", e.to_string()))?;
        }
        contents.push(Content {
            id,
            bank: bank.parse().map_err(|_| corrupt("bank", bank.clone()))?,
            fields: NewContent {
                signals: content_signals,
                labels,
                metadata,
                note,
                provenance: exchange
                    .zip(fetch_id)
                    .map(|(exchange, fetch_id)| Provenance { exchange, fetch_id }),
            },
            disable_until_ts,
            created_at,
        });
    }
    Ok(contents)
}

/// Creates a bank inside `transaction` (shared by banks and exchanges).
pub(super) fn insert_bank(
    transaction: &Transaction<'_>,
    name: &BankName,
    enabled_ratio: f64,
    actor: &str,
) -> Result<Bank, Error> {
    crate::validate::ratio(enabled_ratio)?;
    if find_bank(transaction, name)?.is_some() {
        return Err(Error::BankExists(name.to_string()));
    }
    transaction.execute(
        "INSERT INTO bank (name, enabled_ratio, created_at) VALUES (?1, ?2, ?3)",
        params![name.as_str(), enabled_ratio, crate::unix_now()],
    )?;
    let bank = Bank {
        id: transaction.last_insert_rowid(),
        name: name.clone(),
        enabled_ratio,
    };
    audit(
        transaction,
        actor,
        "bank.create",
        &format!("bank:{name}"),
        json!({ "enabled_ratio": enabled_ratio }),
    )?;
    Ok(bank)
}

impl Store for SqliteStore {
    fn create_bank(&self, name: &BankName, enabled_ratio: f64, actor: &str) -> Result<Bank, Error> {
        let mut connection = self.lock();
        let transaction = begin_write(&mut connection)?;
        let bank = insert_bank(&transaction, name, enabled_ratio, actor)?;
        transaction.commit()?;
        Ok(bank)
    }

    fn banks(&self) -> Result<Vec<Bank>, Error> {
        let connection = self.lock();
        let mut statement =
            connection.prepare_cached("SELECT id, name, enabled_ratio FROM bank ORDER BY name")?;
        let rows = statement.query_map([], bank_row)?;
        rows.map(|row| to_bank(row?)).collect()
    }

    fn bank(&self, name: &BankName) -> Result<Option<Bank>, Error> {
        find_bank(&self.lock(), name)
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
        let mut connection = self.lock();
        let transaction = begin_write(&mut connection)?;
        let mut bank =
            find_bank(&transaction, name)?.ok_or_else(|| Error::BankNotFound(name.to_string()))?;
        if let Some(new_name) = new_name.filter(|n| *n != name) {
            if find_bank(&transaction, new_name)?.is_some() {
                return Err(Error::BankExists(new_name.to_string()));
            }
            transaction.execute(
                "UPDATE bank SET name = ?1 WHERE id = ?2",
                params![new_name.as_str(), bank.id],
            )?;
            audit(
                &transaction,
                actor,
                "bank.rename",
                &format!("bank:{name}"),
                json!({ "to": new_name.as_str() }),
            )?;
            bank.name = new_name.clone();
        }
        if let Some(ratio) = enabled_ratio {
            transaction.execute(
                "UPDATE bank SET enabled_ratio = ?1 WHERE id = ?2",
                params![ratio, bank.id],
            )?;
            audit(
                &transaction,
                actor,
                "bank.update",
                &format!("bank:{}", bank.name),
                json!({ "enabled_ratio": ratio }),
            )?;
            bank.enabled_ratio = ratio;
        }
        transaction.commit()?;
        Ok(bank)
    }

    fn delete_bank(&self, name: &BankName, actor: &str) -> Result<bool, Error> {
        let mut connection = self.lock();
        let transaction = begin_write(&mut connection)?;
        let Some(bank) = find_bank(&transaction, name)? else {
            return Ok(false);
        };
        let contents: i64 = transaction.query_row(
            "SELECT COUNT(*) FROM content WHERE bank_id = ?1",
            [bank.id],
            |r| r.get(0),
        )?;
        transaction.execute("DELETE FROM bank WHERE id = ?1", [bank.id])?;
        log_change(&transaction, "bank_deleted", bank.id)?;
        audit(
            &transaction,
            actor,
            "bank.delete",
            &format!("bank:{name}"),
            json!({ "contents": contents }),
        )?;
        transaction.commit()?;
        Ok(true)
    }

    fn import(
        &self,
        bank: &BankName,
        next: &mut dyn FnMut() -> Result<Option<NewContent>, Error>,
        added: &mut dyn FnMut(i64),
        actor: &str,
    ) -> Result<u64, Error> {
        let mut connection = self.lock();
        let transaction = begin_write(&mut connection)?;
        let bank =
            find_bank(&transaction, bank)?.ok_or_else(|| Error::BankNotFound(bank.to_string()))?;
        let created_at = crate::unix_now();
        let (mut count, mut first, mut last) = (0u64, None, None);
        {
            let mut insert_content = transaction.prepare_cached(
                "INSERT INTO content (bank_id, labels, metadata, note, provenance_exchange, provenance_fetch_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut insert_signal = transaction.prepare_cached(
                "INSERT INTO content_signal (content_id, signal_type, value) VALUES (?1, ?2, ?3)",
            )?;
            let mut insert_change = transaction.prepare_cached(
                "INSERT INTO change_log (kind, object_id) VALUES ('content', ?1)",
            )?;
            while let Some(content) = next()? {
                count += 1;
                content
                    .validate()
                    .map_err(|e| Error::Invalid(format!("content {count}: {e}")))?;
                let labels = serde_json::to_string(&content.labels)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                let metadata = serde_json::to_string(&content.metadata)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                let provenance = content.provenance.as_ref();
                insert_content.execute(params![
                    bank.id,
                    labels,
                    metadata,
                    content.note.as_deref().filter(|n| !n.is_empty()),
                    provenance.map(|p| p.exchange.as_str()),
                    provenance.map(|p| p.fetch_id.as_str()),
                    created_at
                ])?;
                let id = transaction.last_insert_rowid();
                for (signal_type, value) in content.signals.iter() {
                    insert_signal.execute(params![id, signal_type.as_str(), value])?;
                }
                insert_change.execute([id])?;
                first.get_or_insert(id);
                last = Some(id);
                added(id);
            }
        }
        audit(
            &transaction,
            actor,
            "content.add",
            &format!("bank:{}", bank.name),
            json!({ "count": count, "first_id": first, "last_id": last }),
        )?;
        transaction.commit()?;
        Ok(count)
    }

    fn count_contents(&self, bank: &BankName) -> Result<u64, Error> {
        let count: i64 = self.lock().query_row(
            "SELECT COUNT(*) FROM content c JOIN bank b ON b.id = c.bank_id WHERE b.name = ?1",
            [bank.as_str()],
            |row| row.get(0),
        )?;
        Ok(count as u64)
    }

    fn content(&self, id: i64) -> Result<Option<Content>, Error> {
        Ok(load_contents(&self.lock(), "c.id = ?1", &[&id])?.pop())
    }

    fn update_content(
        &self,
        id: i64,
        update: &ContentUpdate,
        actor: &str,
    ) -> Result<Option<Content>, Error> {
        crate::validate::update(update)?;
        let mut connection = self.lock();
        let transaction = begin_write(&mut connection)?;
        let exists: Option<i64> = transaction
            .query_row("SELECT id FROM content WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return Ok(None);
        }
        if let Some(ts) = update.disable_until_ts {
            transaction.execute(
                "UPDATE content SET disable_until_ts = ?1 WHERE id = ?2",
                params![ts, id],
            )?;
        }
        if let Some(note) = &update.note {
            transaction.execute(
                "UPDATE content SET note = ?1 WHERE id = ?2",
                params![note.as_deref().filter(|n| !n.is_empty()), id],
            )?;
        }
        if let Some(labels) = &update.labels {
            let labels =
                serde_json::to_string(labels).map_err(|e| Error::Invalid(e.to_string()))?;
            transaction.execute(
                "UPDATE content SET labels = ?1 WHERE id = ?2",
                params![labels, id],
            )?;
        }
        log_change(&transaction, "content", id)?;
        audit(
            &transaction,
            actor,
            "content.update",
            &format!("content:{id}"),
            json!({
                "disable_until_ts": update.disable_until_ts,
                "note": update.note.is_some(),
                "labels": update.labels.is_some(),
            }),
        )?;
        transaction.commit()?;
        drop(connection);
        self.content(id)
    }

    fn delete_content(&self, id: i64, actor: &str) -> Result<bool, Error> {
        let mut connection = self.lock();
        let transaction = begin_write(&mut connection)?;
        let deleted = transaction.execute("DELETE FROM content WHERE id = ?1", [id])? > 0;
        if deleted {
            log_change(&transaction, "content_deleted", id)?;
            audit(
                &transaction,
                actor,
                "content.delete",
                &format!("content:{id}"),
                json!({}),
            )?;
        }
        transaction.commit()?;
        Ok(deleted)
    }

    fn contents_after(
        &self,
        bank: Option<&BankName>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Content>, Error> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let connection = self.lock();
        match bank {
            Some(bank) => {
                let name = bank.as_str();
                load_contents(
                    &connection,
                    "b.name = ?1 AND c.id > ?2 ORDER BY c.id LIMIT ?3",
                    &[&name, &after, &limit],
                )
            }
            None => load_contents(
                &connection,
                "c.id > ?1 ORDER BY c.id LIMIT ?2",
                &[&after, &limit],
            ),
        }
    }

    fn indexed_after(&self, after: i64, limit: usize) -> Result<Vec<IndexedContent>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT id, bank_id, disable_until_ts FROM content WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let mut contents: Vec<IndexedContent> = statement
            .query_map(params![after, limit.min(i64::MAX as usize) as i64], |row| {
                Ok(IndexedContent {
                    id: row.get(0)?,
                    bank_id: row.get(1)?,
                    disable_until_ts: row.get(2)?,
                    signals: Signals::default(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let (Some(first), Some(last)) = (
            contents.first().map(|c| c.id),
            contents.last().map(|c| c.id),
        ) else {
            return Ok(contents);
        };
        let mut signals = connection.prepare_cached(
            "SELECT content_id, signal_type, value FROM content_signal WHERE content_id BETWEEN ?1 AND ?2",
        )?;
        let rows = signals.query_map(params![first, last], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        // Contents are sorted by id: find each signal's owner by binary search.
        for row in rows {
            let (id, signal_type, value) = row?;
            if let Ok(at) = contents.binary_search_by_key(&id, |c| c.id) {
                contents[at]
                    .signals
                    .insert_named(&signal_type, &value)
                    .map_err(|e| Error::Corrupt(format!("content {id} signal: {e}")))?;
            }
        }
        Ok(contents)
    }

    fn last_change(&self) -> Result<i64, Error> {
        Ok(self
            .lock()
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM change_log", [], |row| {
                row.get(0)
            })?)
    }

    fn changes_after(&self, seq: i64, limit: usize) -> Result<Vec<Change>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT seq, kind, object_id FROM change_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows =
            statement.query_map(params![seq, limit.min(i64::MAX as usize) as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })?;
        rows.map(|row| {
            let (seq, kind, id) = row?;
            let kind = crate::validate::change_kind(seq, &kind, id)?;
            Ok(Change { seq, kind })
        })
        .collect()
    }

    fn audit_after(&self, seq: i64, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT seq, at, actor, action, target, detail FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows =
            statement.query_map(params![seq, limit.min(i64::MAX as usize) as i64], |row| {
                Ok(AuditEntry {
                    seq: row.get(0)?,
                    at: row.get(1)?,
                    actor: row.get(2)?,
                    action: row.get(3)?,
                    target: row.get(4)?,
                    detail: row.get(5)?,
                })
            })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
