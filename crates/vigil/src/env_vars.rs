//! Every environment variable Vigil reads, in one place.
//!
//! | variable | read by | meaning |
//! |---|---|---|
//! | `RUST_LOG` | all commands | log filter for stderr diagnostics, e.g. `vigil=debug` |
//! | `VIGIL_THREADS` | `vigil hash` | worker threads (default: all cores); same as `--threads` |
//! | `VIGIL_PDQ_MODE` | `vigil hash` | `full` or `reference-cli`; same as `--pdq-mode` |
//! | `VIGIL_VECTORS` | tests only | folder holding the reference vectors (`pdq/`), default `../shared/vectors` |

/// Log filter (`tracing_subscriber::EnvFilter` syntax).
pub(crate) const RUST_LOG: &str = "RUST_LOG";
/// Worker threads for hashing.
pub(crate) const VIGIL_THREADS: &str = "VIGIL_THREADS";
/// Default PDQ mode.
pub(crate) const VIGIL_PDQ_MODE: &str = "VIGIL_PDQ_MODE";
