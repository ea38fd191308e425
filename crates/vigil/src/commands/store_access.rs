//! Opening the store the global `--data-dir` / `--database` options name,
//! and the engine over it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use vigil_engine::Engine;
use vigil_store::{BankName, SqliteStore, Store};

/// Resolved store settings.
#[derive(Debug, Clone)]
pub(crate) struct StoreSettings {
    pub(crate) data_dir: PathBuf,
    pub(crate) database: Option<String>,
}

/// Who the audit log records for actions from the command line.
pub(crate) const ACTOR: &str = "cli";

impl StoreSettings {
    /// Opens the store: PostgreSQL when a URL was given, else the SQLite
    /// file in the data directory (both created and migrated as needed).
    pub(crate) fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        if let Some(url) = &self.database {
            return open_postgres(url);
        }
        vigil_store::create_private_dir(&self.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                self.data_dir.display()
            )
        })?;
        let path = self.data_dir.join("vigil.db");
        let store = SqliteStore::open(&path)
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        Ok(Arc::new(store))
    }

    /// Opens the store and indexes it.
    pub(crate) fn engine(&self) -> anyhow::Result<Engine> {
        Engine::open(self.open()?).context("cannot index the store")
    }
}

/// The PostgreSQL store at `url`.
#[cfg(feature = "postgres")]
fn open_postgres(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store = vigil_store::PostgresStore::connect(url, None)
        .with_context(|| format!("cannot open the PostgreSQL store at {}", redact(url)))?;
    Ok(Arc::new(store))
}

/// A SQLite-only build has no PostgreSQL store to open.
#[cfg(not(feature = "postgres"))]
fn open_postgres(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    anyhow::bail!(
        "this vigil was built without PostgreSQL support (feature `postgres`), so it cannot \
         open {}; use the embedded store (--data-dir) or a build with the default features",
        redact(url)
    )
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Parses a bank name argument.
pub(crate) fn bank_name(name: &str) -> anyhow::Result<BankName> {
    Ok(name.parse()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://vigil:secret@db:5432/vigil"),
            "postgres://vigil:***@db:5432/vigil"
        );
        assert_eq!(redact("postgres://db/vigil"), "postgres://db/vigil");
    }
}
