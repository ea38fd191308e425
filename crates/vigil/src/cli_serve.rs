//! `vigil serve`'s flags.

use clap::Args;

use crate::cli::RoleArg;

/// `vigil serve`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on. Any address but loopback requires API tokens.
    #[arg(long, default_value = "127.0.0.1:5100")]
    pub(crate) listen: std::net::SocketAddr,
    /// Route groups to serve (comma list): hasher (/h), matcher (/m),
    /// curator (/c). Others answer 404, as in HMA.
    #[arg(long, value_delimiter = ',', default_value = "hasher,matcher,curator")]
    pub(crate) roles: Vec<RoleArg>,
    /// Require an API token even on loopback.
    #[arg(long)]
    pub(crate) require_tokens: bool,
    /// Only fetch URLs on this host or its subdomains (repeatable; default:
    /// any public host).
    #[arg(long = "fetch-allowed-host", value_name = "HOST")]
    pub(crate) fetch_allowed_hosts: Vec<String>,
    /// Also fetch from loopback, private and link-local addresses. Only for
    /// tests and closed networks: it lets callers reach the host's network.
    #[arg(long)]
    pub(crate) fetch_allow_private: bool,
    /// Largest body fetched from a URL, in MiB (larger: 413).
    #[arg(long, default_value_t = 100, value_name = "MIB")]
    pub(crate) fetch_max_mib: u64,
    /// Deadline for fetching one URL, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub(crate) fetch_timeout: u64,
    /// Directory `local_file` exchanges read from (their `filename` is
    /// relative to it). Without it, local_file exchanges cannot fetch.
    #[arg(long, value_name = "DIR")]
    pub(crate) exchange_dir: Option<std::path::PathBuf>,
    /// Seconds between background fetches of every enabled exchange
    /// (0: only on creation and `POST /c/exchange/NAME/fetch`).
    #[arg(long, default_value_t = 240, value_name = "SECONDS")]
    pub(crate) exchange_interval: u64,
    /// A name this server is reached by, e.g. behind a reverse proxy
    /// (repeatable). Requests whose `Host` is not an IP address,
    /// `localhost` or such a name are refused (421): a web page that
    /// re-resolves its own name to this server (DNS rebinding) cannot
    /// drive it.
    #[arg(long = "public-host", value_name = "NAME")]
    pub(crate) public_hosts: Vec<String>,
    #[command(flatten)]
    pub(crate) limits: ServeLimitArgs,
}

/// Bounds on connections and requests (see docs/security.md).
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits")]
pub(crate) struct ServeLimitArgs {
    /// Largest body of a JSON (non-upload) request, in KiB (larger: 413).
    #[arg(long, default_value_t = 1024, value_name = "KIB")]
    pub(crate) max_json_kib: u64,
    /// Largest multipart upload, in MiB (larger: 413).
    #[arg(long, default_value_t = 256, value_name = "MIB")]
    pub(crate) max_upload_mib: u64,
    /// Request and fetched bodies held by all requests together, in MiB.
    /// A request waits up to 10 s for room, then gets 503 with
    /// Retry-After, so concurrency cannot multiply the per-request limits.
    #[arg(long, default_value_t = 512, value_name = "MIB")]
    pub(crate) memory_budget_mib: u64,
    /// Connections served at once (at most the file descriptor limit less
    /// a reserve). At the cap the longest-idle connection is closed for
    /// each new one.
    #[arg(long, default_value_t = 4096, value_name = "N")]
    pub(crate) max_connections: usize,
    /// Seconds a connection may sit without a request (new or keep-alive)
    /// before it is closed.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub(crate) idle_timeout: u64,
    /// Seconds a client has to finish a request head once begun.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub(crate) header_timeout: u64,
    /// Longest pause, in seconds, between two parts of a request body.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub(crate) body_timeout: u64,
}
