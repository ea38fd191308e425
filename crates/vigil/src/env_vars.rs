//! Every environment variable Vigil reads, in one place.
//!
//! | variable | read by | meaning |
//! |---|---|---|
//! | `RUST_LOG` | all commands | log filter for stderr diagnostics, e.g. `vigil=debug` |
//! | `VIGIL_LOG_FORMAT` | all commands | `json` for JSON-lines logs on stderr (default: text) |
//! | `VIGIL_THREADS` | `vigil hash` | worker threads (default: all cores); same as `--threads` |
//! | `VIGIL_PDQ_MODE` | `vigil hash` | `full` or `reference-cli`; same as `--pdq-mode` |
//! | `VIGIL_DATA_DIR` | store commands | folder of the embedded SQLite store; same as `--data-dir` |
//! | `VIGIL_DATABASE` | store commands | PostgreSQL URL instead of the embedded store; same as `--database` |
//! | `VIGIL_TEST_POSTGRES` | tests only | PostgreSQL server for the store's tests (`.ci/run` sets it) |
//! | `VIGIL_VECTORS` | tests only | folder holding the reference vectors (`pdq/`), default `../shared/vectors` |

/// Log filter (`tracing_subscriber::EnvFilter` syntax).
pub(crate) const RUST_LOG: &str = "RUST_LOG";
/// `json` for JSON-lines logs.
pub(crate) const VIGIL_LOG_FORMAT: &str = "VIGIL_LOG_FORMAT";
/// Worker threads for hashing.
pub(crate) const VIGIL_THREADS: &str = "VIGIL_THREADS";
/// Default PDQ mode.
pub(crate) const VIGIL_PDQ_MODE: &str = "VIGIL_PDQ_MODE";
/// Folder of the embedded store.
pub(crate) const VIGIL_DATA_DIR: &str = "VIGIL_DATA_DIR";
/// PostgreSQL URL of a shared store.
pub(crate) const VIGIL_DATABASE: &str = "VIGIL_DATABASE";
