//! [`PostgresStore`]: the store on PostgreSQL, for several nodes sharing
//! one database.

use std::sync::{Mutex, MutexGuard, PoisonError};

use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls};

use crate::sql::{self, Backend, Conn, Dialect, Row, Sql, Value};
use crate::{Error, NewContent};

/// Key of the transaction-level advisory lock every ordered write takes
/// (see [`Backend::write`]).
const WRITE_LOCK: i64 = 0x5649_4749_4c57; // "VIGILW"

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
        let store = Self {
            client: Mutex::new(client),
        };
        sql::migrate(&store)?;
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Client> {
        // A failed call rolls its transaction back on drop, so the client is
        // usable even if a panic poisoned the mutex.
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn transaction<T>(
        &self,
        ordered: bool,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut client = self.lock();
        let mut transaction = client.transaction()?;
        if ordered {
            transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        }
        let value = f(&mut PostgresConn(&mut transaction))?;
        transaction.commit()?;
        Ok(value)
    }
}

impl Backend for PostgresStore {
    fn read<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>) -> Result<T, Error> {
        f(&mut PostgresConn(&mut *self.lock()))
    }

    /// Takes the store's advisory lock: PostgreSQL hands out sequence
    /// numbers in the order transactions ask, not the order they commit.
    fn write<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>) -> Result<T, Error> {
        self.transaction(true, f)
    }

    fn write_unordered<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.transaction(false, f)
    }
}

/// A PostgreSQL client, or a transaction on it, for the shared code.
struct PostgresConn<'a, C>(&'a mut C);

fn params<'a>(args: &'a [Value<'_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|arg| arg as &(dyn ToSql + Sync)).collect()
}

impl<C: GenericClient> Conn for PostgresConn<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &Sql, args: &[Value<'_>]) -> Result<u64, Error> {
        Ok(self.0.execute(sql.postgres, &params(args))?)
    }

    fn for_each_row(
        &mut self,
        sql: &Sql,
        args: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        for row in self.0.query(sql.postgres, &params(args))? {
            each(&Row::Postgres(&row))?;
        }
        Ok(())
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), Error> {
        Ok(self.0.batch_execute(sql)?)
    }

    /// Four statements (four round trips) for the whole batch.
    fn insert_batch(
        &mut self,
        bank_id: i64,
        created_at: i64,
        batch: &[NewContent],
    ) -> Result<Vec<i64>, Error> {
        let client = &mut *self.0;
        let ids: Vec<i64> = client
            .query(
                "SELECT nextval('content_id_seq') FROM generate_series(1, $1::bigint)",
                &[&(batch.len() as i64)],
            )?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut labels = Vec::with_capacity(batch.len());
        let mut metadata = Vec::with_capacity(batch.len());
        let (mut notes, mut exchanges, mut fetch_ids) = (Vec::new(), Vec::new(), Vec::new());
        let (mut signal_ids, mut signal_types, mut signal_values) =
            (Vec::new(), Vec::new(), Vec::new());
        for (content, &id) in batch.iter().zip(&ids) {
            labels.push(sql::json_text(&content.labels)?);
            metadata.push(sql::json_text(&content.metadata)?);
            notes.push(content.note.as_deref().filter(|n| !n.is_empty()));
            let provenance = content.provenance.as_ref();
            exchanges.push(provenance.map(|p| p.exchange.as_str()));
            fetch_ids.push(provenance.map(|p| p.fetch_id.as_str()));
            for (signal_type, value) in content.signals.iter() {
                signal_ids.push(id);
                signal_types.push(signal_type.as_str());
                signal_values.push(value);
            }
        }
        client.execute(
            "INSERT INTO content (id, bank_id, labels, metadata, note, provenance_exchange, \
             provenance_fetch_id, created_at) \
             SELECT id, $2, l::jsonb, m::jsonb, n, e, f, $8 \
             FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) \
             AS t(id, l, m, n, e, f)",
            &[
                &ids,
                &bank_id,
                &labels,
                &metadata,
                &notes,
                &exchanges,
                &fetch_ids,
                &created_at,
            ],
        )?;
        client.execute(
            "INSERT INTO content_signal (content_id, signal_type, value) \
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])",
            &[&signal_ids, &signal_types, &signal_values],
        )?;
        client.execute(
            "INSERT INTO change_log (kind, object_id) \
             SELECT 'content', id FROM unnest($1::bigint[]) WITH ORDINALITY AS t(id, n) ORDER BY n",
            &[&ids],
        )?;
        Ok(ids)
    }
}
