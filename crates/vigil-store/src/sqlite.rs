//! [`SqliteStore`]: the embedded default, one database file in WAL mode.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, TransactionBehavior, params, params_from_iter};

use crate::sql::{self, Backend, Conn, Dialect, Row, Sql, Value};
use crate::{Error, NewContent};

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

    fn init(connection: Connection) -> Result<Self, Error> {
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(30))?;
        // Every statement is prepared once and kept: there are about 60.
        connection.set_prepared_statement_cache_capacity(128);
        let store = Self {
            connection: Mutex::new(connection),
        };
        sql::migrate(&store)?;
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
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

impl Backend for SqliteStore {
    fn read<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>) -> Result<T, Error> {
        f(&mut SqliteConn(&self.lock()))
    }

    /// Holds SQLite's write lock from the start (`BEGIN IMMEDIATE`). A
    /// deferred transaction that reads and then writes fails at once with
    /// "database is locked" if another process committed in between (WAL
    /// cannot upgrade a stale snapshot); an immediate one waits for the
    /// lock within the busy timeout instead.
    fn write<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>) -> Result<T, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&mut SqliteConn(&transaction))?;
        transaction.commit()?;
        Ok(value)
    }

    /// SQLite has one writer at a time anyway: the same as [`Self::write`].
    fn write_unordered<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.write(f)
    }
}

/// A SQLite connection, or a transaction on it, for the shared code.
struct SqliteConn<'a>(&'a Connection);

impl Conn for SqliteConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &Sql, args: &[Value<'_>]) -> Result<u64, Error> {
        let changed = self
            .0
            .prepare_cached(sql.sqlite)?
            .execute(params_from_iter(args))?;
        Ok(changed as u64)
    }

    fn for_each_row(
        &mut self,
        sql: &Sql,
        args: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut statement = self.0.prepare_cached(sql.sqlite)?;
        let mut rows = statement.query(params_from_iter(args))?;
        while let Some(row) = rows.next()? {
            each(&Row::Sqlite(row))?;
        }
        Ok(())
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), Error> {
        Ok(self.0.execute_batch(sql)?)
    }

    /// The statements are prepared once for the batch: looking each up in
    /// the statement cache for every content would cost more than running it.
    fn insert_batch(
        &mut self,
        bank_id: i64,
        created_at: i64,
        batch: &[NewContent],
    ) -> Result<Vec<i64>, Error> {
        let mut insert_content = self.0.prepare_cached(
            "INSERT INTO content (bank_id, labels, metadata, note, provenance_exchange, \
             provenance_fetch_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut insert_signal = self.0.prepare_cached(
            "INSERT INTO content_signal (content_id, signal_type, value) VALUES (?1, ?2, ?3)",
        )?;
        let mut insert_change = self
            .0
            .prepare_cached("INSERT INTO change_log (kind, object_id) VALUES ('content', ?1)")?;
        let mut ids = Vec::with_capacity(batch.len());
        for content in batch {
            let provenance = content.provenance.as_ref();
            insert_content.execute(params![
                bank_id,
                sql::json_text(&content.labels)?,
                sql::json_text(&content.metadata)?,
                content.note.as_deref().filter(|n| !n.is_empty()),
                provenance.map(|p| p.exchange.as_str()),
                provenance.map(|p| p.fetch_id.as_str()),
                created_at
            ])?;
            let id = self.0.last_insert_rowid();
            for (signal_type, value) in content.signals.iter() {
                insert_signal.execute(params![id, signal_type.as_str(), value])?;
            }
            insert_change.execute([id])?;
            ids.push(id);
        }
        Ok(ids)
    }
}
