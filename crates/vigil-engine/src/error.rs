/// Why an engine operation failed, by kind: what the caller asked for does
/// not exist ([`NotFound`](Error::NotFound)), clashes with what does
/// ([`Conflict`](Error::Conflict)), breaks a rule
/// ([`Invalid`](Error::Invalid), [`ImportLine`](Error::ImportLine),
/// [`Media`](Error::Media)), or the engine could not do it
/// ([`Io`](Error::Io), [`Store`](Error::Store)). Callers answer by kind
/// (the server gives each kind one HTTP status), never by message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bank, content or exchange that does not exist.
    #[error("{0}")]
    NotFound(Missing),
    /// A bank (or exchange, which fills the bank of its name) of that name
    /// already exists.
    #[error("bank {0:?} already exists")]
    Conflict(String),
    /// Media could not be hashed.
    #[error(transparent)]
    Media(#[from] vigil_media::Error),
    /// A line of an import file is invalid; nothing was imported.
    #[error("line {line}: {reason}")]
    ImportLine {
        /// 1-based line number (for CSV, counting the header).
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading an import file or writing an export failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Input that breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// The store failed: its database is unreachable, damaged, or newer
    /// than this Vigil.
    #[error(transparent)]
    Store(vigil_store::Error),
}

/// What an [`Error::NotFound`] did not find.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Missing {
    /// A bank, by the name asked for (which may not even be a valid name).
    #[error("bank {0:?} not found")]
    Bank(String),
    /// A content, by id.
    #[error("content {0} not found")]
    Content(i64),
    /// An exchange, by name.
    #[error("Exchange '{0}' not found")]
    Exchange(String),
}

impl From<vigil_store::Error> for Error {
    /// The store's refusals become the engine's kinds; its failures stay
    /// [`Error::Store`].
    fn from(error: vigil_store::Error) -> Self {
        use vigil_store::Error as S;
        match error {
            S::Invalid(message) => Self::Invalid(message),
            S::BankNotFound(name) => Self::NotFound(Missing::Bank(name)),
            S::BankExists(name) => Self::Conflict(name),
            other => Self::Store(other),
        }
    }
}

impl From<Missing> for Error {
    fn from(missing: Missing) -> Self {
        Self::NotFound(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_refusals_become_kinds_with_the_same_words() {
        let cases = [
            (
                vigil_store::Error::BankNotFound("A".into()),
                "bank \"A\" not found",
            ),
            (
                vigil_store::Error::BankExists("A".into()),
                "bank \"A\" already exists",
            ),
            (vigil_store::Error::Invalid("bad".into()), "bad"),
        ];
        for (store, text) in cases {
            assert_eq!(store.to_string(), text);
            let engine = Error::from(store);
            assert!(!matches!(engine, Error::Store(_)), "{engine:?}");
            assert_eq!(engine.to_string(), text);
        }
        let failure = Error::from(vigil_store::Error::Corrupt("x".into()));
        assert!(matches!(failure, Error::Store(_)));
    }
}
