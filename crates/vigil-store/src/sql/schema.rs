//! Schema migrations, written once for both databases: each file names the
//! words that differ as `{{name}}`, which [`Dialect::ddl`](super::Dialect::ddl) fills in.

use super::Backend;
use crate::Error;

/// Applied in order; the index (from 1) is the version.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_tokens_exchanges.sql"),
    include_str!("migrations/0003_no_signal_value_index.sql"),
    include_str!("migrations/0004_monitor.sql"),
];

/// Brings the schema up to date, in one write transaction so that nodes
/// starting together apply each migration once. Fails with
/// [`Error::SchemaTooNew`] if a newer Vigil wrote the database.
pub(crate) fn migrate(backend: &impl Backend) -> Result<(), Error> {
    backend.write(|conn| {
        let dialect = conn.dialect();
        conn.execute_batch(&dialect.ddl(
            "CREATE TABLE IF NOT EXISTS schema_migrations \
             (version {{int}} PRIMARY KEY, applied_at {{int}} NOT NULL)",
        ))?;
        let current: i64 = conn.one(
            sql!("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"),
            &[],
        )?;
        let supported = MIGRATIONS.len() as i64;
        if current > supported {
            return Err(Error::SchemaTooNew {
                found: current,
                supported,
            });
        }
        for (index, template) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            conn.execute_batch(&dialect.ddl(template))?;
            conn.execute(
                sql!("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)"),
                args![index as i64 + 1, crate::unix_now()],
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Dialect;

    #[test]
    fn every_word_of_every_migration_is_known() {
        let dialects = [
            Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Dialect::Postgres,
        ];
        for dialect in dialects {
            for template in MIGRATIONS {
                let ddl = dialect.ddl(template);
                assert!(!ddl.contains("{{"), "{dialect:?}: {ddl}");
            }
        }
    }
}
