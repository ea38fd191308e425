//! API tokens: [`TokenStore`] for any backend.

use serde_json::json;

use super::{Backend, Row, audit};
use crate::access::{parse_roles, roles_text, validate_token};
use crate::{ApiToken, Error, Role, TokenStore};

/// The columns [`to_token`] reads.
macro_rules! token_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, name, roles, created_at, revoked_at FROM api_token ",
            $rest
        )
    };
}

fn to_token(row: &Row<'_>) -> Result<ApiToken, Error> {
    let roles: String = row.get(2)?;
    Ok(ApiToken {
        id: row.get(0)?,
        name: row.get(1)?,
        roles: parse_roles(&roles)?,
        created_at: row.get(3)?,
        revoked_at: row.get(4)?,
    })
}

impl<B: Backend> TokenStore for B {
    fn create_token(
        &self,
        name: &str,
        secret_sha256: &str,
        roles: &[Role],
        actor: &str,
    ) -> Result<ApiToken, Error> {
        let roles = validate_token(name, roles)?;
        self.write(|conn| {
            let taken: bool = conn.one(
                sql!("SELECT EXISTS (SELECT 1 FROM api_token WHERE name = ?1)"),
                args![name],
            )?;
            if taken {
                return Err(Error::Invalid(format!(
                    "a token named {name:?} already exists"
                )));
            }
            let created_at = crate::unix_now();
            let id = conn.one(
                sql!(
                    "INSERT INTO api_token (name, secret_sha256, roles, created_at) \
                     VALUES (?1, ?2, ?3, ?4) RETURNING id"
                ),
                args![name, secret_sha256, roles_text(&roles), created_at],
            )?;
            audit(
                conn,
                actor,
                "token.create",
                &format!("token:{name}"),
                json!({ "roles": roles }),
            )?;
            Ok(ApiToken {
                id,
                name: name.to_owned(),
                roles,
                created_at,
                revoked_at: None,
            })
        })
    }

    fn tokens(&self) -> Result<Vec<ApiToken>, Error> {
        self.read(|conn| conn.rows(sql!(token_select!("ORDER BY name")), &[], to_token))
    }

    fn token_by_secret_sha256(&self, secret_sha256: &str) -> Result<Option<ApiToken>, Error> {
        self.opt(
            sql!(token_select!(
                "WHERE secret_sha256 = ?1 AND revoked_at IS NULL"
            )),
            args![secret_sha256],
            to_token,
        )
    }

    fn revoke_token(&self, name: &str, actor: &str) -> Result<bool, Error> {
        self.write(|conn| {
            let revoked = conn.execute(
                sql!("UPDATE api_token SET revoked_at = ?1 WHERE name = ?2 AND revoked_at IS NULL"),
                args![crate::unix_now(), name],
            )? > 0;
            if revoked {
                audit(
                    conn,
                    actor,
                    "token.revoke",
                    &format!("token:{name}"),
                    json!({}),
                )?;
            }
            Ok(revoked)
        })
    }
}
