//! The fetcher: one HTTP client whose resolver, redirects and body reading
//! all go through the [`UrlPolicy`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Url, redirect};

use crate::{FetchError, MemoryBudget, Reservation, UrlPolicy, is_public_address};

/// What a URL answered.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL the body came from, after redirects.
    pub url: Url,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, at most [`UrlPolicy::max_bytes`] long.
    pub bytes: Vec<u8>,
    /// The body's share of the fetcher's [`MemoryBudget`], held while this
    /// value (or a clone) lives, so the bytes stay counted until they are
    /// hashed and dropped.
    pub reservation: Option<Arc<Reservation>>,
}

/// Fetches URLs under a [`UrlPolicy`]. Cheap to clone; share one per process
/// so connections are reused.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<UrlPolicy>,
    budget: Option<MemoryBudget>,
    /// Deadline for connecting (within the whole fetch's deadline).
    connect_timeout: std::time::Duration,
}

impl Fetcher {
    /// A fetcher that applies `policy` to every request.
    pub fn new(policy: UrlPolicy) -> Result<Self, FetchError> {
        // A host that takes SYNs but never completes a handshake is given
        // up on early, so a retry elsewhere still fits in the deadline.
        let connect_timeout = policy.timeout.min(std::time::Duration::from_secs(10));
        let client = reqwest::Client::builder()
            // Redirects are followed by hand so that each target is checked.
            .redirect(redirect::Policy::none())
            .no_proxy()
            .dns_resolver(CheckedResolver {
                allow_private: policy.allow_private,
                fixed: policy
                    .resolve
                    .iter()
                    .map(|(host, address)| {
                        (host.trim_end_matches('.').to_ascii_lowercase(), *address)
                    })
                    .collect(),
            })
            .user_agent(policy.user_agent.clone())
            .connect_timeout(connect_timeout)
            .build()
            .map_err(|e| FetchError::Setup(e.to_string()))?;
        Ok(Self {
            client,
            policy: Arc::new(policy),
            budget: None,
            connect_timeout,
        })
    }

    /// The same fetcher, counting every body it reads against `budget`
    /// (its `Content-Length`, or the policy's limit when none is given)
    /// before reading it.
    pub fn with_budget(mut self, budget: MemoryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The policy applied.
    pub fn policy(&self) -> &UrlPolicy {
        &self.policy
    }

    /// GETs `url`, following redirects that pass the policy, and returns the
    /// body if it is a 2xx answer within the size limit and the deadline.
    ///
    /// Every phase is bounded: connecting by the connect timeout (at most
    /// 10 s), and the whole fetch — connecting, waiting for the headers,
    /// redirects and reading the body — by [`UrlPolicy::timeout`], so a host
    /// that accepts a connection and never answers (or trickles its body)
    /// costs at most that long and ends in [`FetchError::Timeout`].
    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        self.get_also_allowing(url, None).await
    }

    /// As [`Fetcher::get`], with `also_allowed` (a host and its subdomains)
    /// passing the allowlist, on the first URL and on redirect hops: for
    /// URLs the operator named (a monitor's own sources), never for URLs a
    /// stranger chose. Every other rule still applies.
    pub async fn get_also_allowing(
        &self,
        url: &str,
        also_allowed: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let seconds = self.policy.timeout.as_secs().max(1);
        tokio::time::timeout(
            self.policy.timeout,
            self.get_within_deadline(url, also_allowed),
        )
        .await
        .map_err(|_| FetchError::Timeout { seconds })?
    }

    async fn get_within_deadline(
        &self,
        url: &str,
        also_allowed: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let mut url = self.policy.check_url_also_allowing(url, also_allowed)?;
        let mut redirects = 0;
        loop {
            let mut response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| self.transport_error(&url, &e))?;
            let status = response.status();
            if status.is_redirection()
                && let Some(location) = response.headers().get(LOCATION)
            {
                if redirects == self.policy.max_redirects {
                    return Err(FetchError::TooManyRedirects {
                        limit: self.policy.max_redirects,
                    });
                }
                redirects += 1;
                let target = location
                    .to_str()
                    .ok()
                    .and_then(|location| url.join(location).ok())
                    .ok_or_else(|| FetchError::Transport {
                        url: url.to_string(),
                        reason: "a redirect with an unreadable Location".to_owned(),
                    })?;
                tracing::debug!(from = %url, to = %target, "following redirect");
                url = self
                    .policy
                    .check_url_also_allowing(target.as_str(), also_allowed)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                });
            }
            let limit = self.policy.max_bytes;
            if response
                .content_length()
                .is_some_and(|length| length > limit)
            {
                return Err(FetchError::TooLarge { limit });
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let reservation = match &self.budget {
                Some(budget) => Some(Arc::new(
                    budget
                        .reserve(response.content_length().unwrap_or(limit))
                        .await?,
                )),
                None => None,
            };
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| self.transport_error(&url, &e))?
            {
                if (bytes.len() + chunk.len()) as u64 > limit {
                    return Err(FetchError::TooLarge { limit });
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                url,
                content_type,
                bytes,
                reservation,
            });
        }
    }

    /// Turns a client error into ours, recognising our resolver's refusal
    /// somewhere in its chain of causes, and the client's own (connect)
    /// timeout as a timeout.
    fn transport_error(&self, url: &Url, error: &reqwest::Error) -> FetchError {
        if error.is_timeout() {
            return FetchError::Timeout {
                seconds: self.connect_timeout.as_secs().max(1),
            };
        }
        client_error(url, error)
    }
}

/// Turns a client error into ours, recognising our resolver's refusal
/// somewhere in its chain of causes.
pub(crate) fn client_error(url: &Url, error: &reqwest::Error) -> FetchError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(refused) = current.downcast_ref::<RefusedAddress>() {
            return FetchError::Unsafe {
                url: url.to_string(),
                reason: refused.to_string(),
            };
        }
        cause = current.source();
    }
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        reason = format!("{reason}: {inner}");
        source = inner.source();
    }
    if error.is_connect() {
        return FetchError::Unreachable {
            url: url.to_string(),
            reason,
        };
    }
    FetchError::Transport {
        url: url.to_string(),
        reason,
    }
}

/// Resolves host names and drops every address the policy refuses, so the
/// connection can only go to an address that was checked.
struct CheckedResolver {
    allow_private: bool,
    fixed: Vec<(String, SocketAddr)>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let fixed: Vec<SocketAddr> = self
            .fixed
            .iter()
            .filter(|(name, _)| *name == host)
            .map(|(_, address)| *address)
            .collect();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = if fixed.is_empty() {
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect()
            } else {
                fixed
            };
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|address| allow_private || is_public_address(address.ip()))
                .collect();
            match (allowed.is_empty(), resolved.first()) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as Addrs),
                (true, Some(first)) => Err(Box::new(RefusedAddress {
                    host,
                    address: first.ip(),
                }) as _),
                (true, None) => Err(format!("{host} has no address").into()),
            }
        })
    }
}

/// A host resolved only to addresses the policy refuses.
#[derive(Debug)]
struct RefusedAddress {
    host: String,
    address: IpAddr,
}

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves to {}, which is not a public address",
            self.host, self.address
        )
    }
}

impl std::error::Error for RefusedAddress {}
