/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed or refused the operation.
    #[error(transparent)]
    Store(#[from] vigil_store::Error),
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
}
