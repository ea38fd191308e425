use std::path::PathBuf;

/// Why an index snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the file failed.
    #[error("snapshot {path}: {source}")]
    Io {
        /// The snapshot file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a snapshot of this kind, or of another version.
    #[error("snapshot {path} is not a Vigil Hamming index snapshot (version {expected}): {reason}")]
    Format {
        /// The snapshot file.
        path: PathBuf,
        /// The version this build reads.
        expected: u32,
        /// What did not match.
        reason: String,
    },
    /// The file ends early or its checksum does not match: it was truncated
    /// or damaged, and nothing of it was loaded.
    #[error("snapshot {path} is corrupt: {reason}; nothing was loaded")]
    Corrupt {
        /// The snapshot file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}
