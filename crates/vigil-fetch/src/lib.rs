//! Fetching URLs that strangers chose, without handing them the host's
//! network.
//!
//! A server that hashes "whatever is at this URL" (HMA's `GET /h/hash?url=`)
//! or a monitor that follows links from extremist channels is an open proxy
//! into its own network unless every request is checked. This crate owns
//! those checks and the workspace's outgoing HTTP (alert webhooks go out
//! through it too); it knows nothing of media, banks or HTTP routes.
//!
//! - [`UrlPolicy`] is the pure part: which URLs may be fetched (http or https,
//!   a host, no credentials, an optional host allowlist) and which addresses
//!   may be connected to ([`is_public_address`]: no loopback, private,
//!   link-local, shared, multicast or reserved ranges unless
//!   [`UrlPolicy::allow_private`] says so).
//! - [`Fetcher`] applies the policy at the three places an attacker can
//!   steer: the URL itself (including IP literals), the addresses its host
//!   resolves to (checked in the resolver, so the address checked is the
//!   address connected to — no DNS-rebinding window), and every redirect
//!   hop, which is followed by hand and checked like the first URL. Bodies
//!   are streamed against a byte limit (checked first against
//!   `Content-Length`), and the whole fetch runs under one deadline.
//!   An optional [`MemoryBudget`] counts every body before it is read, so
//!   concurrent fetches cannot multiply the limit.
//!   Proxies from the environment are ignored: a proxy would resolve and
//!   connect on our behalf, past the checks.
//! - [`WebhookClient`] delivers webhooks: a JSON POST to a URL the operator
//!   configured, under a deadline. Those URLs are trusted, so the address
//!   rules above do not apply to them (see its module for why).
//!
//! ```no_run
//! # async fn demo() -> Result<(), vigil_fetch::FetchError> {
//! use vigil_fetch::{Fetcher, UrlPolicy};
//! let fetcher = Fetcher::new(UrlPolicy::default())?;
//! let fetched = fetcher.get("https://example.org/picture.jpg").await?;
//! println!("{} bytes of {:?}", fetched.bytes.len(), fetched.content_type);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod budget;
mod client;
mod error;
mod policy;
mod webhook;

pub use budget::{BudgetExhausted, MemoryBudget, Reservation};
pub use client::{Fetched, Fetcher};
pub use error::FetchError;
pub use policy::{UrlPolicy, is_public_address};
pub use webhook::WebhookClient;
