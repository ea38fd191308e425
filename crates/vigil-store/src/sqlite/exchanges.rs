//! Exchanges on SQLite.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use super::{SqliteStore, audit, find_bank, insert_bank};
use crate::{BankName, Error, Exchange, ExchangeStatus, ExchangeStore, Store};

const SELECT: &str = "SELECT b.name, e.api, e.config, e.enabled, e.status \
     FROM exchange e JOIN bank b ON b.id = e.bank_id";

type Row = (String, String, String, bool, String);

fn exchange_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_exchange((name, api, config, enabled, status): Row) -> Result<Exchange, Error> {
    let corrupt = |what: &str, e: String| Error::Corrupt(format!("exchange {name} {what}: {e}"));
    Ok(Exchange {
        name: name.parse().map_err(|_| corrupt("name", name.clone()))?,
        api,
        config: serde_json::from_str(&config).map_err(|e| corrupt("config", e.to_string()))?,
        enabled,
        status: serde_json::from_str(&status).map_err(|e| corrupt("status", e.to_string()))?,
    })
}

fn find_exchange(connection: &Connection, name: &BankName) -> Result<Option<Exchange>, Error> {
    connection
        .query_row(
            &format!("{SELECT} WHERE b.name = ?1"),
            [name.as_str()],
            exchange_row,
        )
        .optional()?
        .map(to_exchange)
        .transpose()
}

impl ExchangeStore for SqliteStore {
    fn create_exchange(
        &self,
        name: &BankName,
        api: &str,
        config: &Value,
        actor: &str,
    ) -> Result<Exchange, Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let bank = insert_bank(&transaction, name, 1.0, actor)?;
        transaction.execute(
            "INSERT INTO exchange (bank_id, api, config, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![bank.id, api, config.to_string(), crate::unix_now()],
        )?;
        audit(
            &transaction,
            actor,
            "exchange.create",
            &format!("exchange:{name}"),
            json!({ "api": api, "config": config }),
        )?;
        let exchange = find_exchange(&transaction, name)?
            .ok_or_else(|| Error::Corrupt(format!("exchange {name} vanished")))?;
        transaction.commit()?;
        Ok(exchange)
    }

    fn exchanges(&self) -> Result<Vec<Exchange>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare(&format!("{SELECT} ORDER BY b.name"))?;
        let rows = statement.query_map([], exchange_row)?;
        rows.map(|row| to_exchange(row?)).collect()
    }

    fn exchange(&self, name: &BankName) -> Result<Option<Exchange>, Error> {
        find_exchange(&self.lock(), name)
    }

    fn set_exchange_enabled(
        &self,
        name: &BankName,
        enabled: bool,
        actor: &str,
    ) -> Result<Option<Exchange>, Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let Some(bank) = find_bank(&transaction, name)? else {
            return Ok(None);
        };
        if transaction.execute(
            "UPDATE exchange SET enabled = ?1 WHERE bank_id = ?2",
            params![enabled, bank.id],
        )? == 0
        {
            return Ok(None);
        }
        audit(
            &transaction,
            actor,
            "exchange.update",
            &format!("exchange:{name}"),
            json!({ "enabled": enabled }),
        )?;
        let exchange = find_exchange(&transaction, name)?;
        transaction.commit()?;
        Ok(exchange)
    }

    fn save_exchange_status(&self, name: &BankName, status: &ExchangeStatus) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let current = find_exchange(&transaction, name)?
            .ok_or_else(|| Error::Invalid(format!("exchange {name} not found")))?;
        crate::validate::checkpoint_progress(&current.status, status)?;
        let text = serde_json::to_string(status).map_err(|e| Error::Invalid(e.to_string()))?;
        transaction.execute(
            "UPDATE exchange SET status = ?1 WHERE bank_id = (SELECT id FROM bank WHERE name = ?2)",
            params![text, name.as_str()],
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn delete_exchange(&self, name: &BankName, actor: &str) -> Result<bool, Error> {
        if self.exchange(name)?.is_none() {
            return Ok(false);
        }
        // The exchange row goes with its bank (ON DELETE CASCADE), in the
        // bank's one transaction.
        self.delete_bank(name, actor)
    }
}
