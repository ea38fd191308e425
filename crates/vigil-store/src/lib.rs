//! Persistence for Vigil: banks, contents with their signals, labels,
//! metadata and provenance, a change log that indexes follow, and an
//! append-only audit log.
//!
//! This crate owns the schema and its migrations and nothing above them: it
//! knows no HTTP, no index structures and no media formats. [`Store`] is the
//! small trait the engine uses; [`SqliteStore`] is the embedded default (one
//! file in WAL mode, no server) and `PostgresStore` (feature `postgres`, on
//! by default) serves several nodes sharing one database. Every multi-row write is one transaction:
//! an import that fails on its last line, or a process killed halfway, leaves
//! the store exactly as it was.
//!
//! ```
//! use vigil_store::{NewContent, SignalType, SqliteStore, Store};
//!
//! let store = SqliteStore::open_in_memory().unwrap();
//! let bank = "EXAMPLE_BANK".parse().unwrap();
//! store.create_bank(&bank, 1.0, "doc").unwrap();
//! let mut content = NewContent::default();
//! content.signals.insert(SignalType::Md5, "d41d8cd98f00b204e9800998ecf8427e").unwrap();
//! content.labels.set("tier", "promotional").unwrap();
//! let ids = store.add_contents(&bank, &[content], "doc").unwrap();
//! let stored = store.content(ids[0]).unwrap().unwrap();
//! assert_eq!(stored.bank.as_str(), "EXAMPLE_BANK");
//! ```
#![deny(missing_docs)]

mod access;
mod error;
mod exchange;
mod model;
mod monitor;
#[cfg(feature = "postgres")]
mod postgres;
mod private_files;
mod sql;
mod sqlite;
mod validate;

pub use access::{ApiToken, Role, TokenStore};
pub use error::Error;
pub use exchange::{Exchange, ExchangeStatus, ExchangeStore};
pub use model::{
    AuditEntry, Bank, BankName, Behaviour, Change, ChangeKind, Content, DisableUntil,
    IndexedContent, Labels, Metadata, NewContent, Provenance, Signals, Tier,
};
pub use monitor::{
    Delivery, DeliveryAttempt, DeliveryStatus, FetchRecord, FetchState, Liveness, MonitorStore,
    NewAlert, NewSighting, NewSource, Sighting, SightingMatch, Source, SourceKind, Webhook,
};
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use private_files::{create_private_dir, create_private_file, write_private_file};
pub use sqlite::SqliteStore;
/// The signal types [`Signals`] are keyed by (from `vigil-signal`).
pub use vigil_signal::{SignalType, SignalValue};

/// The current Unix time in seconds: the clock records are stamped with
/// (audit entries, change log, exchange status), here and in the layers
/// above, so every layer reads the same clock the same way.
pub fn unix_now() -> i64 {
    unix_now_ms() / 1000
}

/// The current Unix time in milliseconds, for the monitor's records
/// (sightings, checks, alerts), whose times are compared at that grain. A
/// clock set before 1970 reads 0.
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A change to a stored content's mutable fields; `None` leaves a field as
/// it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentUpdate {
    /// New enabled state.
    pub disable_until_ts: Option<DisableUntil>,
    /// New note (`Some(None)` clears it).
    pub note: Option<Option<String>>,
    /// New labels (replacing the old ones).
    pub labels: Option<Labels>,
}

/// What the engine needs from persistent storage: banks and contents here,
/// API tokens ([`TokenStore`]), exchanges ([`ExchangeStore`]) and the
/// monitor's records ([`MonitorStore`]) in their own traits. Implementations are shared between threads; every method is one
/// transaction.
pub trait Store: TokenStore + ExchangeStore + MonitorStore + Send + Sync {
    /// Creates a bank. Fails with [`Error::BankExists`] on a duplicate name.
    fn create_bank(&self, name: &BankName, enabled_ratio: f64, actor: &str) -> Result<Bank, Error>;

    /// All banks, by name.
    fn banks(&self) -> Result<Vec<Bank>, Error>;

    /// One bank by name.
    fn bank(&self, name: &BankName) -> Result<Option<Bank>, Error>;

    /// Renames a bank and/or changes its enabled ratio.
    fn update_bank(
        &self,
        name: &BankName,
        new_name: Option<&BankName>,
        enabled_ratio: Option<f64>,
        actor: &str,
    ) -> Result<Bank, Error>;

    /// Deletes a bank and all its contents; returns whether it existed.
    fn delete_bank(&self, name: &BankName, actor: &str) -> Result<bool, Error>;

    /// Adds contents to a bank, all or none, and returns their ids in
    /// order. Each content is validated first.
    fn add_contents(
        &self,
        bank: &BankName,
        contents: &[NewContent],
        actor: &str,
    ) -> Result<Vec<i64>, Error> {
        validate::contents(contents)?;
        let mut items = contents.iter().cloned();
        let mut ids = Vec::with_capacity(contents.len());
        self.import(
            bank,
            &mut || Ok(items.next()),
            &mut |id| ids.push(id),
            actor,
        )?;
        Ok(ids)
    }

    /// Adds the contents `next` yields (until `Ok(None)`) to a bank in one
    /// transaction, writing while reading so that memory stays flat however
    /// many there are; `added` hears each new id. Any error, from `next`,
    /// validation or the database, rolls back all of it. Returns the count.
    fn import(
        &self,
        bank: &BankName,
        next: &mut dyn FnMut() -> Result<Option<NewContent>, Error>,
        added: &mut dyn FnMut(i64),
        actor: &str,
    ) -> Result<u64, Error>;

    /// Number of contents in a bank.
    fn count_contents(&self, bank: &BankName) -> Result<u64, Error>;

    /// One content by id.
    fn content(&self, id: i64) -> Result<Option<Content>, Error>;

    /// Changes a content's enabled state, note or labels; returns the new
    /// record, or `None` if there is no such content.
    fn update_content(
        &self,
        id: i64,
        update: &ContentUpdate,
        actor: &str,
    ) -> Result<Option<Content>, Error>;

    /// Deletes one content; returns whether it existed.
    fn delete_content(&self, id: i64, actor: &str) -> Result<bool, Error>;

    /// Up to `limit` contents with ids above `after`, in id order, from one
    /// bank or all: pages for streaming exports and index builds.
    fn contents_after(
        &self,
        bank: Option<&BankName>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Content>, Error>;

    /// Up to `limit` contents with ids above `after`, in id order, with only
    /// what an index needs (no labels or metadata): the fast path for
    /// building indexes at start.
    fn indexed_after(&self, after: i64, limit: usize) -> Result<Vec<IndexedContent>, Error>;

    /// The sequence number of the newest change-log entry (0 when empty).
    fn last_change(&self) -> Result<i64, Error>;

    /// Up to `limit` change-log entries after `seq`, in order.
    fn changes_after(&self, seq: i64, limit: usize) -> Result<Vec<Change>, Error>;

    /// Up to `limit` audit-log entries after `seq`, in order.
    fn audit_after(&self, seq: i64, limit: usize) -> Result<Vec<AuditEntry>, Error>;
}
