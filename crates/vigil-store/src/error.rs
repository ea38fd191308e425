/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input that breaks a rule (bank name, label, signal, note length).
    #[error("{0}")]
    Invalid(String),
    /// The named bank does not exist.
    #[error("bank {0:?} not found")]
    BankNotFound(String),
    /// A bank of that name already exists.
    #[error("bank {0:?} already exists")]
    BankExists(String),
    /// The database was written by a newer Vigil.
    #[error(
        "the database has schema version {found}, newer than this Vigil's {supported}; upgrade Vigil"
    )]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The SQLite database failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The PostgreSQL database failed.
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] postgres::Error),
    /// The database file could not be created.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Stored JSON could not be read back (the database was edited by hand
    /// or damaged).
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
}
