//! What every request passes before any route sees it: the size of its
//! head, the `Host` it names, whether a browser sent it from another site,
//! and the size, pace and memory of its body.
//!
//! Browsers are the reason for the middle two. Where tokens are optional
//! (the default on loopback), any web page the operator visits can send
//! requests to `http://127.0.0.1:PORT`: a cross-site form can post an
//! upload, and a page whose own name re-resolves to 127.0.0.1 (DNS
//! rebinding) can even read the answers. A rebinding page always carries
//! its own name in `Host`, so only names this server is known by are
//! accepted (IP addresses, `localhost`, `--public-host` names); a
//! cross-site request carries a foreign `Origin` or `Sec-Fetch-Site`, so it
//! is refused unless it carries a token, which a page cannot add to a
//! cross-site request without a CORS preflight this server never grants.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;
use tower_http::timeout::TimeoutBody;
use vigil_fetch::MemoryBudget;

use crate::{ApiError, AppState, HttpLimits};

/// The request guard's settings, shared by every request.
#[derive(Debug)]
pub(crate) struct Guard {
    limits: HttpLimits,
    /// Host names (lower case, no port) accepted besides IP addresses and
    /// `localhost`.
    public_hosts: Vec<String>,
    /// Request and fetched bodies in flight, all requests together.
    pub(crate) budget: MemoryBudget,
}

impl Guard {
    pub(crate) fn new(limits: HttpLimits, public_hosts: &[String]) -> Self {
        let budget = MemoryBudget::new(limits.memory_budget_bytes, limits.budget_wait);
        Self {
            public_hosts: public_hosts
                .iter()
                .map(|host| host_name(host).to_ascii_lowercase())
                .collect(),
            limits,
            budget,
        }
    }

    /// Whether `host` (a `Host` header's value) names this server.
    fn knows_host(&self, host: &str) -> bool {
        let name = host_name(host);
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<IpAddr>().is_ok() {
            // No DNS answer can make a browser send an IP address it was
            // not asked to: such a request was addressed to us directly.
            return true;
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        name == "localhost" || name.ends_with(".localhost") || self.public_hosts.contains(&name)
    }
}

/// The host part of a `host[:port]` authority (IPv6 in brackets kept).
fn host_name(authority: &str) -> &str {
    let authority = authority.trim();
    if let Some(end) = authority.find(']') {
        return &authority[..=end];
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _port)| host)
}

/// The middleware (see the [module docs](self)).
pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let guard = Arc::clone(&state.guard);
    if let Err(refused) = check_head(&guard, &request) {
        return refused.into_response();
    }
    let is_upload = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let limit = if is_upload {
        guard.limits.upload_bytes
    } else {
        guard.limits.json_body_bytes
    };
    let declared = match declared_length(request.headers()) {
        Ok(declared) => declared,
        Err(refused) => return refused.into_response(),
    };
    if let BodyLength::Known(length) = declared
        && length > limit
    {
        return too_large(limit).into_response();
    }
    let reserve = match declared {
        BodyLength::Known(length) => length,
        BodyLength::Streamed => limit,
    };
    let reservation = match guard.budget.reserve(reserve).await {
        Ok(reservation) => reservation,
        Err(busy) => {
            let mut response =
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, busy.to_string()).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let request = request.map(|body| {
        Body::new(Limited::new(
            TimeoutBody::new(guard.limits.body_timeout, body),
            limit,
        ))
    });
    let response = next.run(request).await;
    drop(reservation);
    response
}

/// The request head's size, its `Host` and, without a token, its origin.
fn check_head(guard: &Guard, request: &Request) -> Result<(), ApiError> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target > guard.limits.max_uri_bytes {
        return Err(ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!(
                "the request target is {target} bytes, more than the {} accepted",
                guard.limits.max_uri_bytes
            ),
        ));
    }
    let headers = request.headers();
    let head: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if head > guard.limits.max_header_bytes {
        return Err(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request's header fields are {head} bytes, more than the {} accepted",
                guard.limits.max_header_bytes
            ),
        ));
    }
    if let Some(host) = headers.get(header::HOST) {
        let host = host.to_str().unwrap_or_default();
        if !guard.knows_host(host) {
            return Err(ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "this server does not answer to the host {host:?}; if that is its public \
                     name, start it with --public-host {}",
                    host_name(host)
                ),
            ));
        }
    }
    if !headers.contains_key(header::AUTHORIZATION)
        && let Some(reason) = cross_site(headers)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "{reason}: requests from other web sites need an API token \
                 (`Authorization: Bearer <token>`)"
            ),
        ));
    }
    Ok(())
}

/// Why a request looks sent by a browser on behalf of another site.
fn cross_site(headers: &HeaderMap) -> Option<String> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or_default();
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return Some(format!("Sec-Fetch-Site: {site}"));
        }
    }
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or_default();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let same = origin
        .split_once("://")
        .is_some_and(|(scheme, authority)| same_authority(scheme, authority, host));
    (!same).then(|| format!("Origin {origin:?} is not this server ({host:?})"))
}

/// Whether an origin's `authority` (with `scheme`'s default port) is the
/// request's `Host`.
fn same_authority(scheme: &str, authority: &str, host: &str) -> bool {
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let normal = |authority: &str| {
        let authority = authority.trim().to_ascii_lowercase();
        let name = host_name(&authority).to_owned();
        let port = authority[name.len()..]
            .strip_prefix(':')
            .filter(|port| !port.is_empty())
            .unwrap_or(default_port)
            .to_owned();
        (name, port)
    };
    !host.is_empty() && normal(authority) == normal(host)
}

/// How long the body says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyLength {
    /// `Content-Length` (0 without one and without `Transfer-Encoding`).
    Known(u64),
    /// Chunked: counted as it arrives.
    Streamed,
}

fn declared_length(headers: &HeaderMap) -> Result<BodyLength, ApiError> {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return Ok(BodyLength::Streamed);
    }
    match headers.get(header::CONTENT_LENGTH) {
        None => Ok(BodyLength::Known(0)),
        Some(length) => length
            .to_str()
            .ok()
            .and_then(|length| length.trim().parse().ok())
            .map(BodyLength::Known)
            .ok_or_else(|| ApiError::bad_request("the Content-Length header is not a number")),
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than the {limit} bytes accepted here"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new(HttpLimits::default(), &["vigil.example.org".to_owned()])
    }

    #[test]
    fn hosts_are_addresses_localhost_or_public_names() {
        let guard = guard();
        for host in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "[::1]:8080",
            "192.0.2.7:443",
            "localhost:8080",
            "LOCALHOST",
            "app.localhost:1",
            "vigil.example.org",
            "Vigil.Example.Org:8443",
        ] {
            assert!(guard.knows_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "vigil.example.org.evil.example:80",
            "",
            "localhost.evil",
        ] {
            assert!(!guard.knows_host(host), "{host}");
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn same_origin_requests_pass_and_foreign_ones_are_named() {
        assert_eq!(cross_site(&headers(&[("host", "127.0.0.1:8080")])), None);
        assert_eq!(
            cross_site(&headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "same-origin"),
            ])),
            None
        );
        assert_eq!(
            cross_site(&headers(&[
                ("host", "vigil.example.org"),
                ("origin", "https://vigil.example.org:443"),
            ])),
            None
        );
        for foreign in [
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example"),
            ]),
            headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:3000"),
            ]),
            headers(&[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")]),
            headers(&[("host", "localhost:8080"), ("sec-fetch-site", "same-site")]),
        ] {
            assert!(cross_site(&foreign).is_some(), "{foreign:?}");
        }
    }

    #[test]
    fn body_lengths_are_read_from_the_head() {
        assert_eq!(declared_length(&headers(&[])), Ok(BodyLength::Known(0)));
        assert_eq!(
            declared_length(&headers(&[("content-length", "12")])),
            Ok(BodyLength::Known(12))
        );
        assert_eq!(
            declared_length(&headers(&[("transfer-encoding", "chunked")])),
            Ok(BodyLength::Streamed)
        );
        assert!(declared_length(&headers(&[("content-length", "many")])).is_err());
    }
}
