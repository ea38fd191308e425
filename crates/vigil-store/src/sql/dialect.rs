//! The two SQL dialects: statement texts for each, and the words in which
//! their DDL differs.

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL, over the network.
    #[cfg(feature = "postgres")]
    Postgres,
}

/// One statement in both dialects; made by `sql!` from the SQLite text.
#[derive(Debug)]
pub(crate) struct Sql {
    /// With `?N` placeholders.
    pub(crate) sqlite: &'static str,
    /// With `$N` placeholders.
    #[cfg(feature = "postgres")]
    pub(crate) postgres: &'static str,
}

/// `sql` with every `?N` placeholder written `$N`, at compile time: the
/// texts have the same length, so no allocation or cache is needed at run
/// time. A bare `?` (SQLite's anonymous parameter, which PostgreSQL lacks)
/// or a `$` fails the build.
#[cfg(feature = "postgres")]
pub(crate) const fn numbered_dollars<const N: usize>(sql: &str) -> [u8; N] {
    let bytes = sql.as_bytes();
    assert!(bytes.len() == N, "the buffer must fit the statement");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = match bytes[i] {
            b'?' => {
                assert!(
                    i + 1 < N && bytes[i + 1].is_ascii_digit(),
                    "placeholders must be numbered: ?1, ?2, …"
                );
                b'$'
            }
            b'$' => panic!("write placeholders as ?N; sql! makes them $N for PostgreSQL"),
            byte => byte,
        };
        i += 1;
    }
    out
}

/// Schema words that differ, by the name a migration writes as `{{name}}`.
/// SQLite's `INTEGER PRIMARY KEY` is the 64-bit rowid; PostgreSQL needs
/// `BIGINT` wherever a Rust `i64` goes, `BOOLEAN` for flags and `JSONB`
/// for JSON documents.
const WORDS: &[(&str, &str, &str)] = &[
    // (name, SQLite, PostgreSQL)
    (
        "id",
        "INTEGER PRIMARY KEY AUTOINCREMENT",
        "BIGSERIAL PRIMARY KEY",
    ),
    ("int", "INTEGER", "BIGINT"),
    ("real", "REAL", "DOUBLE PRECISION"),
    ("json", "TEXT", "JSONB"),
    ("bool", "INTEGER", "BOOLEAN"),
    ("true", "1", "TRUE"),
    ("false", "0", "FALSE"),
    // A table keyed by its primary key alone is smaller clustered on it.
    ("without_rowid", " WITHOUT ROWID", ""),
    (
        "audit_log_append_only",
        SQLITE_APPEND_ONLY,
        POSTGRES_APPEND_ONLY,
    ),
];

const SQLITE_APPEND_ONLY: &str = "\
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";

const POSTGRES_APPEND_ONLY: &str = "\
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();";

impl Dialect {
    /// `template` with each `{{name}}` replaced by this dialect's words. An
    /// unknown name is left as it is, for the database to refuse.
    pub(crate) fn ddl(self, template: &str) -> String {
        WORDS
            .iter()
            .fold(template.to_owned(), |ddl, &(name, sqlite, postgres)| {
                let word = match self {
                    Dialect::Sqlite => sqlite,
                    #[cfg(feature = "postgres")]
                    Dialect::Postgres => postgres,
                };
                #[cfg(not(feature = "postgres"))]
                let _ = postgres;
                ddl.replace(&format!("{{{{{name}}}}}"), word)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_words_are_replaced_and_unknown_ones_kept() {
        let template = "a {{int}} b {{nope}} c {{json}}{{false}} '{}' {{";
        assert_eq!(
            Dialect::Sqlite.ddl(template),
            "a INTEGER b {{nope}} c TEXT0 '{}' {{"
        );
        #[cfg(feature = "postgres")]
        assert_eq!(
            Dialect::Postgres.ddl(template),
            "a BIGINT b {{nope}} c JSONBFALSE '{}' {{"
        );
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn placeholders_become_dollars_at_compile_time() {
        let statement = sql!("SELECT a FROM t WHERE b = ?1 AND c = ?12");
        assert_eq!(
            statement.postgres,
            "SELECT a FROM t WHERE b = $1 AND c = $12"
        );
        assert_eq!(statement.sqlite.len(), statement.postgres.len());
    }
}
