//! Exchanges: configured sources of shared signals (HMA's "collaborations"),
//! each feeding the bank of the same name, and the state of their fetches.

use serde_json::Value;

use crate::{BankName, Error};

/// A configured exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Its name, which is also the name of the bank it fills.
    pub name: BankName,
    /// The exchange type (`sample`, `local_file`, …).
    pub api: String,
    /// The type's settings (HMA's `api_json`).
    pub config: Value,
    /// Whether fetches run.
    pub enabled: bool,
    /// Where fetching has got to.
    pub status: ExchangeStatus,
}

/// The state of an exchange's fetches, as HMA reports it on
/// `/c/exchange/NAME/status`, plus the checkpoint itself and the last error.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ExchangeStatus {
    /// The type's own checkpoint (opaque JSON), to resume from.
    pub checkpoint: Option<Value>,
    /// Progress timestamp of the checkpoint (never goes backwards).
    pub checkpoint_ts: Option<i64>,
    /// Unix time the running fetch started, if one is running.
    pub running_fetch_start_ts: Option<i64>,
    /// Unix time the last fetch finished.
    pub last_fetch_complete_ts: Option<i64>,
    /// Whether the last fetch succeeded.
    pub last_fetch_succeeded: Option<bool>,
    /// Whether the last fetch reached the end of what the exchange has.
    pub up_to_date: bool,
    /// Records fetched in total.
    pub fetched_items: i64,
    /// Why the last fetch failed.
    pub last_error: Option<String>,
}

/// Persistence of exchanges. Part of every [`Store`](crate::Store).
pub trait ExchangeStore {
    /// Creates an exchange and its bank in one transaction. Fails with
    /// [`Error::BankExists`] if a bank (or exchange) of that name exists.
    fn create_exchange(
        &self,
        name: &BankName,
        api: &str,
        config: &Value,
        actor: &str,
    ) -> Result<Exchange, Error>;

    /// All exchanges, by name.
    fn exchanges(&self) -> Result<Vec<Exchange>, Error>;

    /// One exchange by name.
    fn exchange(&self, name: &BankName) -> Result<Option<Exchange>, Error>;

    /// Turns fetching on or off; returns the exchange, or `None` if missing.
    fn set_exchange_enabled(
        &self,
        name: &BankName,
        enabled: bool,
        actor: &str,
    ) -> Result<Option<Exchange>, Error>;

    /// Records fetch progress. A checkpoint timestamp older than the stored
    /// one is refused: progress never goes backwards.
    fn save_exchange_status(&self, name: &BankName, status: &ExchangeStatus) -> Result<(), Error>;

    /// Deletes an exchange with its bank and contents; returns whether it
    /// existed.
    fn delete_exchange(&self, name: &BankName, actor: &str) -> Result<bool, Error>;
}
