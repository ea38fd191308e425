/// Why a URL was not fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL, a redirect target or an address it resolves to breaks the
    /// policy.
    #[error("unsafe URL {url}: {reason}")]
    Unsafe {
        /// The URL refused (the redirect target, for a redirect).
        url: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// The body is larger than the limit (from `Content-Length` or counted
    /// while streaming).
    #[error("content too large: more than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The server answered with a status other than 2xx (after redirects).
    #[error("the server answered {status} for {url}")]
    Status {
        /// The URL that answered.
        url: String,
        /// Its HTTP status.
        status: u16,
    },
    /// More redirects than the policy allows.
    #[error("more than {limit} redirects")]
    TooManyRedirects {
        /// The limit.
        limit: usize,
    },
    /// The fetch did not finish before the deadline.
    #[error("no complete answer within {seconds} s")]
    Timeout {
        /// The deadline in seconds.
        seconds: u64,
    },
    /// The host does not resolve or refuses connections: for a URL that
    /// used to work, a sign that the host is gone.
    #[error("cannot reach {url}: {reason}")]
    Unreachable {
        /// The URL being fetched.
        url: String,
        /// What failed.
        reason: String,
    },
    /// TLS, the connection or reading failed after connecting.
    #[error("cannot fetch {url}: {reason}")]
    Transport {
        /// The URL being fetched.
        url: String,
        /// What failed.
        reason: String,
    },
    /// Too many bytes are already in flight in this process: retry later.
    #[error(transparent)]
    Busy(#[from] crate::BudgetExhausted),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}
