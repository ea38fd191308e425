//! Exchanges: [`ExchangeStore`] for any backend.

use serde_json::{Value, json};

use super::contents::{find_bank, insert_bank, json_text};
use super::{Backend, Conn, Row, audit};
use crate::{BankName, Error, Exchange, ExchangeStatus, ExchangeStore, Store};

/// The columns [`to_exchange`] reads.
macro_rules! exchange_select {
    ($rest:literal) => {
        concat!(
            "SELECT b.name, e.api, e.config, e.enabled, e.status \
             FROM exchange e JOIN bank b ON b.id = e.bank_id ",
            $rest
        )
    };
}

fn to_exchange(row: &Row<'_>) -> Result<Exchange, Error> {
    let name: String = row.get(0)?;
    let corrupt = |what: &str, e: String| Error::Corrupt(format!("exchange {name} {what}: {e}"));
    let config: String = row.get(2)?;
    let status: String = row.get(4)?;
    Ok(Exchange {
        name: name.parse().map_err(|_| corrupt("name", name.clone()))?,
        api: row.get(1)?,
        config: serde_json::from_str(&config).map_err(|e| corrupt("config", e.to_string()))?,
        enabled: row.get(3)?,
        status: serde_json::from_str(&status).map_err(|e| corrupt("status", e.to_string()))?,
    })
}

fn find_exchange(conn: &mut dyn Conn, name: &BankName) -> Result<Option<Exchange>, Error> {
    conn.opt(
        sql!(exchange_select!("WHERE b.name = ?1")),
        args![name.as_str()],
        to_exchange,
    )
}

impl<B: Backend> ExchangeStore for B {
    fn create_exchange(
        &self,
        name: &BankName,
        api: &str,
        config: &Value,
        actor: &str,
    ) -> Result<Exchange, Error> {
        self.write(|conn| {
            let bank = insert_bank(conn, name, 1.0, actor)?;
            conn.execute(
                sql!("INSERT INTO exchange (bank_id, api, config, created_at) VALUES (?1, ?2, ?3, ?4)"),
                args![bank.id, api, config.to_string(), crate::unix_now()],
            )?;
            audit(
                conn,
                actor,
                "exchange.create",
                &format!("exchange:{name}"),
                json!({ "api": api, "config": config }),
            )?;
            find_exchange(conn, name)?
                .ok_or_else(|| Error::Corrupt(format!("exchange {name} vanished")))
        })
    }

    fn exchanges(&self) -> Result<Vec<Exchange>, Error> {
        self.read(|conn| conn.rows(sql!(exchange_select!("ORDER BY b.name")), &[], to_exchange))
    }

    fn exchange(&self, name: &BankName) -> Result<Option<Exchange>, Error> {
        self.read(|conn| find_exchange(conn, name))
    }

    fn set_exchange_enabled(
        &self,
        name: &BankName,
        enabled: bool,
        actor: &str,
    ) -> Result<Option<Exchange>, Error> {
        self.write(|conn| {
            let Some(bank) = find_bank(conn, name)? else {
                return Ok(None);
            };
            if conn.execute(
                sql!("UPDATE exchange SET enabled = ?1 WHERE bank_id = ?2"),
                args![enabled, bank.id],
            )? == 0
            {
                return Ok(None);
            }
            audit(
                conn,
                actor,
                "exchange.update",
                &format!("exchange:{name}"),
                json!({ "enabled": enabled }),
            )?;
            find_exchange(conn, name)
        })
    }

    fn save_exchange_status(&self, name: &BankName, status: &ExchangeStatus) -> Result<(), Error> {
        self.write(|conn| {
            let current = find_exchange(conn, name)?
                .ok_or_else(|| Error::Invalid(format!("exchange {name} not found")))?;
            crate::validate::checkpoint_progress(&current.status, status)?;
            conn.execute(
                sql!(
                    "UPDATE exchange SET status = ?1 \
                     WHERE bank_id = (SELECT id FROM bank WHERE name = ?2)"
                ),
                args![json_text(status)?, name.as_str()],
            )?;
            Ok(())
        })
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
