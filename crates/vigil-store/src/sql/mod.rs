//! The one SQL store behind [`SqliteStore`](crate::SqliteStore) and
//! `PostgresStore`: every statement, row mapper and trait method is written
//! here once, over a thin [`Conn`] that each backend implements for its
//! driver, and the store traits are implemented once for every [`Backend`].
//!
//! Statements are written in SQLite's `?N` style; `sql!` derives
//! PostgreSQL's `$N` text at compile time (same length, so a `const fn` can
//! do it). Both databases understand `RETURNING`, `ON CONFLICT` and `TRUE`,
//! so no statement needs a second text. What truly differs stays with the
//! backends: write locking ([`Backend::write`]), how an import inserts a
//! batch ([`Conn::insert_batch`]) and the DDL words of the migrations
//! ([`Dialect::ddl`]).

/// A statement for both dialects, from its SQLite text (see the module doc).
macro_rules! sql {
    ($text:expr) => {{
        const SQLITE: &str = $text;
        #[cfg(feature = "postgres")]
        const POSTGRES: &str = {
            const BYTES: [u8; SQLITE.len()] = $crate::sql::dialect::numbered_dollars(SQLITE);
            match ::core::str::from_utf8(&BYTES) {
                Ok(text) => text,
                Err(_) => panic!("a statement is not UTF-8"),
            }
        };
        const STATEMENT: $crate::sql::Sql = $crate::sql::Sql {
            sqlite: SQLITE,
            #[cfg(feature = "postgres")]
            postgres: POSTGRES,
        };
        &STATEMENT
    }};
}

/// Statement parameters, each borrowed: `args![id, name, note]`.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$($crate::sql::ToValue::to_value(&$arg)),*]
    };
}

mod access;
mod contents;
pub(crate) mod dialect;
mod exchanges;
mod monitor;
mod schema;
mod values;

pub(crate) use contents::json_text;
pub(crate) use dialect::{Dialect, Sql};
pub(crate) use schema::migrate;
pub(crate) use values::{Column, Row, ToValue, Value};

use crate::{Error, NewContent};

/// A connection or transaction of either driver, as the shared code uses it.
pub(crate) trait Conn {
    /// Which database this is.
    fn dialect(&self) -> Dialect;

    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &Sql, args: &[Value<'_>]) -> Result<u64, Error>;

    /// Runs a query and hands each row to `each`, in order.
    fn for_each_row(
        &mut self,
        sql: &Sql,
        args: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<(), Error>,
    ) -> Result<(), Error>;

    /// Runs several statements without parameters (migrations).
    fn execute_batch(&mut self, sql: &str) -> Result<(), Error>;

    /// Inserts a batch of validated contents into a bank, with their
    /// signals and change-log entries; returns their ids in order. SQLite
    /// runs three prepared statements per content, PostgreSQL four
    /// statements per batch, as one round trip to the server costs more than
    /// inserting many rows.
    fn insert_batch(
        &mut self,
        bank_id: i64,
        created_at: i64,
        batch: &[NewContent],
    ) -> Result<Vec<i64>, Error>;
}

impl dyn Conn + '_ {
    /// Every row of a query, each mapped by `map`.
    pub(crate) fn rows<T>(
        &mut self,
        sql: &Sql,
        args: &[Value<'_>],
        mut map: impl FnMut(&Row<'_>) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        let mut rows = Vec::new();
        self.for_each_row(sql, args, &mut |row| {
            rows.push(map(row)?);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The first row of a query, if any.
    pub(crate) fn opt<T>(
        &mut self,
        sql: &Sql,
        args: &[Value<'_>],
        map: impl FnOnce(&Row<'_>) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        let mut map = Some(map);
        let mut first = None;
        self.for_each_row(sql, args, &mut |row| {
            if let Some(map) = map.take() {
                first = Some(map(row)?);
            }
            Ok(())
        })?;
        Ok(first)
    }

    /// The first column of the one row a query always returns (a count,
    /// an id from `RETURNING`).
    pub(crate) fn one<T: Column>(&mut self, sql: &Sql, args: &[Value<'_>]) -> Result<T, Error> {
        self.opt(sql, args, |row| row.get(0))?
            .ok_or_else(|| Error::Corrupt(format!("no row from {}", sql.sqlite)))
    }
}

/// How a store reaches its database: a connection for reads and write
/// transactions. Implemented by [`SqliteStore`](crate::SqliteStore) and
/// `PostgresStore`; every store trait is implemented once for any backend.
pub(crate) trait Backend: Send + Sync {
    /// Runs `f` on the connection outside a transaction: reads, and writes
    /// of one statement.
    fn read<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>) -> Result<T, Error>;

    /// Runs `f` in a transaction serialised with every other such writer,
    /// committed if `f` succeeds: change-log and audit-log sequence numbers
    /// (and alert numbers) then become visible in order, so a follower
    /// reading "after seq N" can never miss an earlier commit.
    fn write<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>) -> Result<T, Error>;

    /// Runs `f` in a transaction that needs no order against other writers
    /// (the monitor's sightings and deliveries), so that it does not wait
    /// behind a long import on another node.
    fn write_unordered<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>,
    ) -> Result<T, Error>;

    /// [`Conn::execute`] outside a transaction.
    fn execute(&self, sql: &Sql, args: &[Value<'_>]) -> Result<u64, Error> {
        self.read(|conn| conn.execute(sql, args))
    }

    /// `rows` of a [`Conn`], outside a transaction.
    fn rows<T>(
        &self,
        sql: &Sql,
        args: &[Value<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        self.read(|conn| conn.rows(sql, args, map))
    }

    /// `opt` of a [`Conn`], outside a transaction.
    fn opt<T>(
        &self,
        sql: &Sql,
        args: &[Value<'_>],
        map: impl FnOnce(&Row<'_>) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        self.read(|conn| conn.opt(sql, args, map))
    }

    /// `one` of a [`Conn`], outside a transaction.
    fn one<T: Column>(&self, sql: &Sql, args: &[Value<'_>]) -> Result<T, Error> {
        self.read(|conn| conn.one(sql, args))
    }
}

/// Appends to the audit log.
pub(crate) fn audit(
    conn: &mut dyn Conn,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), Error> {
    conn.execute(
        sql!(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)"
        ),
        args![crate::unix_now(), actor, action, target, detail.to_string()],
    )?;
    Ok(())
}

/// A page size as SQL takes it.
fn limit(limit: usize) -> i64 {
    limit.min(i64::MAX as usize) as i64
}
