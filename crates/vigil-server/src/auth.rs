//! API tokens on requests: who is calling and whether their roles allow the
//! route.
//!
//! Which role a route needs follows from its path alone (HMA's prefixes),
//! so a route cannot be added without a rule. A presented token is always
//! checked, even where tokens are optional, so a caller with a wrong or
//! revoked token learns it at once instead of when the server moves off
//! loopback.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vigil_engine::Engine;
use vigil_store::{ApiToken, Role};

use crate::{ApiError, AppState};

/// Who made a request, as handlers see it (a request extension).
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The token's name, when one was presented.
    token: Option<String>,
    /// The roles the caller holds: the token's, or all of them for an
    /// anonymous caller where tokens are optional.
    roles: Vec<Role>,
}

impl Caller {
    /// The name recorded in the audit log.
    pub(crate) fn actor(&self) -> String {
        match &self.token {
            Some(name) => format!("token:{name}"),
            None => "api".to_owned(),
        }
    }

    /// Fails with 403 unless the caller holds `role`.
    pub(crate) fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.roles.contains(&role) {
            Ok(())
        } else {
            Err(forbidden(self, role))
        }
    }
}

fn forbidden(caller: &Caller, role: Role) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "the token '{}' lacks the {role} role",
            caller.token.as_deref().unwrap_or_default()
        ),
    )
}

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Health checks and the API description: never authenticated.
    Open,
    /// Any valid token (where tokens are required).
    AnyToken,
    /// A token with one of these roles.
    OneOf(&'static [Role]),
}

fn access(method: &Method, path: &str) -> Access {
    const HASHER: &[Role] = &[Role::Hasher];
    const MATCHER: &[Role] = &[Role::Matcher];
    const CURATOR: &[Role] = &[Role::Curator];
    const READER: &[Role] = &[Role::Matcher, Role::Curator];
    match path {
        "/status" | "/status/live" | "/openapi.json" => Access::Open,
        _ if path.starts_with("/h/") => Access::OneOf(HASHER),
        _ if path.starts_with("/m/") => Access::OneOf(MATCHER),
        _ if path.starts_with("/c/") => Access::OneOf(CURATOR),
        _ if path.starts_with("/v1/") => match *method {
            Method::GET | Method::HEAD => Access::OneOf(READER),
            _ => Access::OneOf(CURATOR),
        },
        _ => Access::AnyToken,
    }
}

/// The middleware: resolves the caller, refuses what it may not do, and
/// hands the [`Caller`] to the route.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let access = access(request.method(), request.uri().path());
    let anonymous = Caller {
        token: None,
        roles: Role::ALL.to_vec(),
    };
    let caller = if access == Access::Open {
        anonymous
    } else {
        match bearer(request.headers()) {
            Err(()) => return unauthorized("the Authorization header must be `Bearer <token>`"),
            Ok(Some(secret)) => match state.tokens.resolve(&state.engine, secret).await {
                Ok(Some(token)) => Caller {
                    token: Some(token.name),
                    roles: token.roles,
                },
                Ok(None) => return unauthorized("unknown or revoked API token"),
                Err(error) => return error.into_response(),
            },
            Ok(None) if state.settings.require_tokens => {
                return unauthorized(
                    "this server requires an API token: send `Authorization: Bearer <token>` \
                     (create one with `vigil token create`)",
                );
            }
            Ok(None) => anonymous,
        }
    };
    if let Access::OneOf(roles) = access
        && !roles.iter().any(|role| caller.roles.contains(role))
    {
        return forbidden(&caller, roles[0]).into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The bearer token, `Ok(None)` without an Authorization header, `Err` for
/// another scheme.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ()> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?;
    let (scheme, token) = value.split_once(' ').ok_or(())?;
    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        Ok(Some(token.trim()))
    } else {
        Err(())
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// Recently checked tokens, so a busy client costs one store read per
/// [`TOKEN_CACHE_TTL`], not one per request. Revocation takes effect within
/// that time.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<String, (Option<ApiToken>, Instant)>>,
}

/// How long a token check is reused.
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// Entries kept at most; the cache is emptied when full, so random
/// guesses cannot grow it without bound.
const TOKEN_CACHE_CAPACITY: usize = 10_000;

impl TokenCache {
    async fn resolve(
        &self,
        engine: &Arc<Engine>,
        secret: &str,
    ) -> Result<Option<ApiToken>, ApiError> {
        let digest = vigil_engine::secret_digest(secret);
        if let Some((token, at)) = self.lock().get(&digest)
            && at.elapsed() < TOKEN_CACHE_TTL
        {
            return Ok(token.clone());
        }
        let engine = Arc::clone(engine);
        let secret = secret.to_owned();
        let token = tokio::task::spawn_blocking(move || engine.authenticate(&secret))
            .await
            .map_err(|_| ApiError::internal())??;
        let mut entries = self.lock();
        if entries.len() >= TOKEN_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(digest, (token.clone(), Instant::now()));
        Ok(token)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<ApiToken>, Instant)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_has_its_role() {
        assert_eq!(access(&Method::GET, "/status"), Access::Open);
        assert_eq!(access(&Method::GET, "/openapi.json"), Access::Open);
        assert_eq!(access(&Method::GET, "/metrics"), Access::AnyToken);
        assert_eq!(
            access(&Method::POST, "/h/hash"),
            Access::OneOf(&[Role::Hasher])
        );
        assert_eq!(
            access(&Method::GET, "/m/lookup"),
            Access::OneOf(&[Role::Matcher])
        );
        assert_eq!(
            access(&Method::DELETE, "/c/bank/X"),
            Access::OneOf(&[Role::Curator])
        );
        assert_eq!(
            access(&Method::GET, "/v1/content/1/labels"),
            Access::OneOf(&[Role::Matcher, Role::Curator])
        );
        assert_eq!(
            access(&Method::PUT, "/v1/content/1/labels"),
            Access::OneOf(&[Role::Curator])
        );
        // Prefix matching is by path segment, not by string start.
        assert_eq!(access(&Method::GET, "/hash"), Access::AnyToken);
    }

    #[test]
    fn only_bearer_tokens_are_read() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), Ok(None));
        headers.insert(
            header::AUTHORIZATION,
            "Bearer vigil_abc"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(bearer(&headers), Ok(Some("vigil_abc")));
        headers.insert(
            header::AUTHORIZATION,
            "Basic dXNlcjpwdw=="
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(bearer(&headers), Err(()));
        headers.insert(
            header::AUTHORIZATION,
            "Bearer ".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(bearer(&headers), Err(()));
    }
}
