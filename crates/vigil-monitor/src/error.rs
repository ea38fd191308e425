//! The monitor's one error type.

use std::path::PathBuf;

/// Why the monitor could not do something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// A source could not be read or parsed.
    #[error("{0}")]
    Source(String),
    /// The fetcher or the webhook client could not be set up.
    #[error(transparent)]
    Fetch(#[from] vigil_fetch::FetchError),
    /// Fetched content is in no format Vigil reads.
    #[error("{0}")]
    Unreadable(String),
    /// Fetched media could not be decoded or hashed.
    #[error(transparent)]
    Media(#[from] vigil_media::Error),
    /// The engine failed (a lookup, signals that do not convert).
    #[error(transparent)]
    Engine(#[from] vigil_engine::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] vigil_store::Error),
    /// Fetched media could not be kept under the media directory.
    #[error("cannot keep fetched media at {}: {source}", path.display())]
    KeepMedia {
        /// The file (or its directory) that could not be written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A background task failed.
    #[error("a monitor task failed: {0}")]
    Task(String),
}
