//! Webhook delivery: POSTing a JSON body to a URL the operator configured.
//!
//! A webhook URL is not a stranger's: the operator names it (`vigil
//! monitor webhook add`), and a receiver on the operator's own network (a
//! SIEM, a chat bridge, a test receiver on loopback) is the usual case. So
//! the [`UrlPolicy`](crate::UrlPolicy) rules for untrusted URLs — the
//! private-address refusal, the host allowlist, the fixed name resolution
//! — do not apply here; names resolve through the system, as the
//! operator's other tools resolve them. What does apply: no proxy from the
//! environment (as for every request this crate makes), a deadline for the
//! whole delivery, and only an answer in the 2xx range counts as
//! delivered. Redirects are followed as HTTP clients usually do (at most
//! ten hops), which is what deliveries have always done.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;

use crate::FetchError;
use crate::client::client_error;

/// Delivers webhooks. Cheap to clone; share one per process so
/// connections to a receiver are reused.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    client: reqwest::Client,
    timeout: Duration,
}

impl WebhookClient {
    /// A client that sends `user_agent` and gives each delivery at most
    /// `timeout`, from connecting to the end of the answer.
    pub fn new(user_agent: &str, timeout: Duration) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .user_agent(user_agent)
            .build()
            .map_err(|e| FetchError::Setup(e.to_string()))?;
        Ok(Self { client, timeout })
    }

    /// POSTs `body` (JSON text, sent as `application/json`) to `url` with
    /// `headers` added (such as `Idempotency-Key`), and returns the 2xx
    /// status the receiver answered.
    ///
    /// Any other status is [`FetchError::Status`]; no complete answer
    /// within the deadline is [`FetchError::Timeout`]; a receiver that
    /// does not resolve or refuses connections is
    /// [`FetchError::Unreachable`]; a bad URL or header, or a failure after
    /// connecting, is [`FetchError::Transport`].
    pub async fn post_json(
        &self,
        url: &str,
        body: String,
        headers: &[(&str, &str)],
    ) -> Result<u16, FetchError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| FetchError::Transport {
            url: url.to_owned(),
            reason: format!("not a URL ({e})"),
        })?;
        let mut request = self
            .client
            .post(parsed.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                FetchError::Timeout {
                    seconds: self.timeout.as_secs().max(1),
                }
            } else {
                client_error(&parsed, &e)
            }
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        Ok(status.as_u16())
    }
}
