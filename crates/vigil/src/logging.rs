//! Diagnostics on stderr through `tracing`, filtered by `RUST_LOG`, as text
//! for people or JSON lines for log pipelines (`VIGIL_LOG_FORMAT=json`).

use tracing_subscriber::EnvFilter;

/// Installs the subscriber: warnings and errors by default, `RUST_LOG`
/// (e.g. `RUST_LOG=vigil=debug`, or `vigil_server=debug` for one line per
/// HTTP request) for more.
pub(crate) fn init() {
    let filter = EnvFilter::try_from_env(crate::env_vars::RUST_LOG)
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    let json = std::env::var(crate::env_vars::VIGIL_LOG_FORMAT)
        .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (only possible in tests) is harmless.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
