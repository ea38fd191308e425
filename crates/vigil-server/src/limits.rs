//! The bounds every connection and request is held to.
//!
//! Each default is chosen so that an ordinary client never meets it while
//! one hostile client (or twenty thousand) cannot take the server down.
//! `docs/security.md` lists them with their `vigil serve` flags and tests.

use std::time::Duration;

/// Limits on connections, request heads and bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest body of any request that is not a multipart upload (JSON).
    /// 1 MiB holds a bank of thousands of signals in one `POST`, while a
    /// hostile body costs little to refuse.
    pub json_body_bytes: u64,
    /// Largest multipart upload: `vigil hash`'s default file limit.
    pub upload_bytes: u64,
    /// Bytes of request bodies and fetched bodies held by all requests
    /// together. A request waits up to [`HttpLimits::budget_wait`] for room,
    /// then gets 503: concurrency cannot multiply the per-request limits.
    pub memory_budget_bytes: u64,
    /// How long a request waits for room in the memory budget.
    pub budget_wait: Duration,
    /// Longest request target (path and query) accepted, as nginx's 8 KiB
    /// header buffers; longer ones get 414.
    pub max_uri_bytes: usize,
    /// Largest total size of the request's header fields; larger get 431.
    pub max_header_bytes: usize,
    /// Time a client has to send a whole request head once it has started
    /// one (slow-header attacks).
    pub header_timeout: Duration,
    /// Time a connection may wait without a request in flight — a new
    /// connection before its first byte, a keep-alive connection between
    /// requests — before it is closed.
    pub idle_timeout: Duration,
    /// Longest pause between two parts of a request body (slow-body
    /// attacks); the whole body may take longer as long as it keeps coming.
    pub body_timeout: Duration,
    /// Connections served at once. At the cap, the connection idle the
    /// longest is closed for each new one (as nginx reuses keep-alive
    /// connections); when none is idle, new connections are closed at
    /// once. Keep it below the process's file descriptor limit.
    pub max_connections: usize,
    /// On shutdown, how long requests in flight may take to finish.
    pub shutdown_grace: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            json_body_bytes: 1024 * 1024,
            upload_bytes: 256 * 1024 * 1024,
            memory_budget_bytes: 512 * 1024 * 1024,
            budget_wait: Duration::from_secs(10),
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 32 * 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}
