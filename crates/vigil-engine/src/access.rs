//! API tokens: minted here, stored by digest, checked on every request by
//! the server.

use sha2::Digest;
use vigil_store::{ApiToken, Role};

use crate::{Engine, Error};

/// Prefix of every secret, so a leaked one is recognisable in logs and by
/// secret scanners.
const SECRET_PREFIX: &str = "vigil_";

/// The hex SHA-256 of a token's secret: what the store keeps.
pub fn secret_digest(secret: &str) -> String {
    let digest = sha2::Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Engine {
    /// Creates a token with `roles` and returns it with its secret, which
    /// is shown once and never stored.
    pub fn create_token(
        &self,
        name: &str,
        roles: &[Role],
        actor: &str,
    ) -> Result<(ApiToken, String), Error> {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random)
            .map_err(|e| Error::Invalid(format!("no randomness for a token: {e}")))?;
        let secret: String = std::iter::once(SECRET_PREFIX.to_owned())
            .chain(random.iter().map(|b| format!("{b:02x}")))
            .collect();
        let token = self
            .store
            .create_token(name, &secret_digest(&secret), roles, actor)?;
        Ok((token, secret))
    }

    /// Every token, revoked ones included.
    pub fn tokens(&self) -> Result<Vec<ApiToken>, Error> {
        Ok(self.store.tokens()?)
    }

    /// The active token whose secret is `secret`, if any.
    pub fn authenticate(&self, secret: &str) -> Result<Option<ApiToken>, Error> {
        if !secret.starts_with(SECRET_PREFIX) {
            return Ok(None);
        }
        Ok(self.store.token_by_secret_sha256(&secret_digest(secret))?)
    }
}
