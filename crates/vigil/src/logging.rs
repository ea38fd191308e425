//! Diagnostics on stderr through `tracing`, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber: warnings and errors by default, `RUST_LOG`
/// (e.g. `RUST_LOG=vigil=debug`) for more.
pub(crate) fn init() {
    let filter = EnvFilter::try_from_env(crate::env_vars::RUST_LOG)
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    // A second initialisation (only possible in tests) is harmless.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
