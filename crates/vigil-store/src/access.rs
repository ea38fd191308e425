//! API tokens and the roles they grant. Only a token's SHA-256 is stored:
//! tokens are 256 random bits, so a fast hash is enough to make a stolen
//! database useless for calling the API (no dictionary to try).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// What a caller may do, as HMA splits its routes: hash media (`/h`), match
/// signals (`/m`), curate banks and exchanges (`/c`, `/v1` writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Hash uploads and URLs.
    Hasher,
    /// Look signals up.
    Matcher,
    /// Create and change banks, contents, labels and exchanges.
    Curator,
}

impl Role {
    /// Every role, in the order of HMA's blueprints.
    pub const ALL: [Role; 3] = [Role::Hasher, Role::Matcher, Role::Curator];

    /// The role's name as written in the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Hasher => "hasher",
            Role::Matcher => "matcher",
            Role::Curator => "curator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s.trim())
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown role {s:?}; the roles are hasher, matcher and curator"
                ))
            })
    }
}

/// A stored API token (without the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Store id.
    pub id: i64,
    /// Unique name, shown in logs and the audit log as the actor.
    pub name: String,
    /// Roles granted, sorted and without duplicates.
    pub roles: Vec<Role>,
    /// Unix time of creation.
    pub created_at: i64,
    /// Unix time of revocation; a revoked token is refused.
    pub revoked_at: Option<i64>,
}

/// Persistence of API tokens. Part of every [`Store`](crate::Store).
pub trait TokenStore {
    /// Records a token by the hex SHA-256 of its secret. Fails if the name
    /// is taken (even by a revoked token: names identify actors in the audit
    /// log) or no role is given.
    fn create_token(
        &self,
        name: &str,
        secret_sha256: &str,
        roles: &[Role],
        actor: &str,
    ) -> Result<ApiToken, Error>;

    /// All tokens, revoked ones included, by name.
    fn tokens(&self) -> Result<Vec<ApiToken>, Error>;

    /// The unrevoked token whose secret has this SHA-256.
    fn token_by_secret_sha256(&self, secret_sha256: &str) -> Result<Option<ApiToken>, Error>;

    /// Revokes a token by name; returns whether an active one was revoked.
    fn revoke_token(&self, name: &str, actor: &str) -> Result<bool, Error>;
}

/// Checks a token name and role list before they are stored.
pub(crate) fn validate_token(name: &str, roles: &[Role]) -> Result<Vec<Role>, Error> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        return Err(Error::Invalid(format!(
            "token name {name:?} must be 1 to 64 letters, digits, '-', '_', '.' or '@'"
        )));
    }
    if roles.is_empty() {
        return Err(Error::Invalid("a token needs at least one role".into()));
    }
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// Roles as stored: a comma list.
pub(crate) fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Roles read back from their stored text.
pub(crate) fn parse_roles(text: &str) -> Result<Vec<Role>, Error> {
    text.split(',')
        .filter(|r| !r.is_empty())
        .map(|r| r.parse().map_err(|_| Error::Corrupt(format!("role {r:?}"))))
        .collect()
}
