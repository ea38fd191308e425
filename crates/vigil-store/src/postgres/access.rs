//! API tokens on PostgreSQL.

use serde_json::json;

use super::{PostgresStore, audit};
use crate::access::{parse_roles, roles_text, validate_token};
use crate::{ApiToken, Error, Role, TokenStore};

const COLUMNS: &str = "id, name, roles, created_at, revoked_at";

fn to_token(row: &postgres::Row) -> Result<ApiToken, Error> {
    Ok(ApiToken {
        id: row.get(0),
        name: row.get(1),
        roles: parse_roles(row.get(2))?,
        created_at: row.get(3),
        revoked_at: row.get(4),
    })
}

impl TokenStore for PostgresStore {
    fn create_token(
        &self,
        name: &str,
        secret_sha256: &str,
        roles: &[Role],
        actor: &str,
    ) -> Result<ApiToken, Error> {
        let roles = validate_token(name, roles)?;
        self.write(|transaction| {
            let taken: bool = transaction
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM api_token WHERE name = $1)",
                    &[&name],
                )?
                .get(0);
            if taken {
                return Err(Error::Invalid(format!(
                    "a token named {name:?} already exists"
                )));
            }
            let created_at = crate::unix_now();
            let id: i64 = transaction
                .query_one(
                    "INSERT INTO api_token (name, secret_sha256, roles, created_at) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                    &[&name, &secret_sha256, &roles_text(&roles), &created_at],
                )?
                .get(0);
            audit(
                transaction,
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
        let rows = self.lock().query(
            &format!("SELECT {COLUMNS} FROM api_token ORDER BY name"),
            &[],
        )?;
        rows.iter().map(to_token).collect()
    }

    fn token_by_secret_sha256(&self, secret_sha256: &str) -> Result<Option<ApiToken>, Error> {
        let row = self.lock().query_opt(
            &format!(
                "SELECT {COLUMNS} FROM api_token WHERE secret_sha256 = $1 AND revoked_at IS NULL"
            ),
            &[&secret_sha256],
        )?;
        row.as_ref().map(to_token).transpose()
    }

    fn revoke_token(&self, name: &str, actor: &str) -> Result<bool, Error> {
        self.write(|transaction| {
            let revoked = transaction.execute(
                "UPDATE api_token SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
                &[&crate::unix_now(), &name],
            )? > 0;
            if revoked {
                audit(
                    transaction,
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
