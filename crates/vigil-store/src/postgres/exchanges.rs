//! Exchanges on PostgreSQL.

use postgres::GenericClient;
use serde_json::{Value, json};

use super::{PostgresStore, audit, find_bank, insert_bank};
use crate::{BankName, Error, Exchange, ExchangeStatus, ExchangeStore, Store};

const SELECT: &str = "SELECT b.name, e.api, e.config::text, e.enabled, e.status::text \
     FROM exchange e JOIN bank b ON b.id = e.bank_id";

fn to_exchange(row: &postgres::Row) -> Result<Exchange, Error> {
    let name: String = row.get(0);
    let corrupt = |what: &str, e: String| Error::Corrupt(format!("exchange {name} {what}: {e}"));
    Ok(Exchange {
        name: name.parse().map_err(|_| corrupt("name", name.clone()))?,
        api: row.get(1),
        config: serde_json::from_str(row.get(2)).map_err(|e| corrupt("config", e.to_string()))?,
        enabled: row.get(3),
        status: serde_json::from_str(row.get(4)).map_err(|e| corrupt("status", e.to_string()))?,
    })
}

fn find_exchange(
    client: &mut impl GenericClient,
    name: &BankName,
) -> Result<Option<Exchange>, Error> {
    let row = client.query_opt(&format!("{SELECT} WHERE b.name = $1"), &[&name.as_str()])?;
    row.as_ref().map(to_exchange).transpose()
}

impl ExchangeStore for PostgresStore {
    fn create_exchange(
        &self,
        name: &BankName,
        api: &str,
        config: &Value,
        actor: &str,
    ) -> Result<Exchange, Error> {
        self.write(|transaction| {
            let bank = insert_bank(transaction, name, 1.0, actor)?;
            transaction.execute(
                "INSERT INTO exchange (bank_id, api, config, created_at) VALUES ($1, $2, $3::text::jsonb, $4)",
                &[&bank.id, &api, &config.to_string(), &crate::unix_now()],
            )?;
            audit(
                transaction,
                actor,
                "exchange.create",
                &format!("exchange:{name}"),
                json!({ "api": api, "config": config }),
            )?;
            find_exchange(transaction, name)?
                .ok_or_else(|| Error::Corrupt(format!("exchange {name} vanished")))
        })
    }

    fn exchanges(&self) -> Result<Vec<Exchange>, Error> {
        let rows = self
            .lock()
            .query(&format!("{SELECT} ORDER BY b.name"), &[])?;
        rows.iter().map(to_exchange).collect()
    }

    fn exchange(&self, name: &BankName) -> Result<Option<Exchange>, Error> {
        find_exchange(&mut *self.lock(), name)
    }

    fn set_exchange_enabled(
        &self,
        name: &BankName,
        enabled: bool,
        actor: &str,
    ) -> Result<Option<Exchange>, Error> {
        self.write(|transaction| {
            let Some(bank) = find_bank(transaction, name)? else {
                return Ok(None);
            };
            if transaction.execute(
                "UPDATE exchange SET enabled = $1 WHERE bank_id = $2",
                &[&enabled, &bank.id],
            )? == 0
            {
                return Ok(None);
            }
            audit(
                transaction,
                actor,
                "exchange.update",
                &format!("exchange:{name}"),
                json!({ "enabled": enabled }),
            )?;
            find_exchange(transaction, name)
        })
    }

    fn save_exchange_status(&self, name: &BankName, status: &ExchangeStatus) -> Result<(), Error> {
        self.write(|transaction| {
            let current = find_exchange(transaction, name)?
                .ok_or_else(|| Error::Invalid(format!("exchange {name} not found")))?;
            crate::validate::checkpoint_progress(&current.status, status)?;
            let text = serde_json::to_string(status).map_err(|e| Error::Invalid(e.to_string()))?;
            transaction.execute(
                "UPDATE exchange SET status = $1::text::jsonb \
                 WHERE bank_id = (SELECT id FROM bank WHERE name = $2)",
                &[&text, &name.as_str()],
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
