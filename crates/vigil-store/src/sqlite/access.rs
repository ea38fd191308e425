//! API tokens on SQLite.

use rusqlite::{OptionalExtension, params};
use serde_json::json;

use super::{SqliteStore, audit};
use crate::access::{parse_roles, roles_text, validate_token};
use crate::{ApiToken, Error, Role, TokenStore};

const COLUMNS: &str = "id, name, roles, created_at, revoked_at";

fn token_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String, i64, Option<i64>)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_token(
    (id, name, roles, created_at, revoked_at): (i64, String, String, i64, Option<i64>),
) -> Result<ApiToken, Error> {
    Ok(ApiToken {
        id,
        name,
        roles: parse_roles(&roles)?,
        created_at,
        revoked_at,
    })
}

impl TokenStore for SqliteStore {
    fn create_token(
        &self,
        name: &str,
        secret_sha256: &str,
        roles: &[Role],
        actor: &str,
    ) -> Result<ApiToken, Error> {
        let roles = validate_token(name, roles)?;
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let taken: bool = transaction.query_row(
            "SELECT EXISTS (SELECT 1 FROM api_token WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(Error::Invalid(format!(
                "a token named {name:?} already exists"
            )));
        }
        let created_at = crate::unix_now();
        transaction.execute(
            "INSERT INTO api_token (name, secret_sha256, roles, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, secret_sha256, roles_text(&roles), created_at],
        )?;
        let id = transaction.last_insert_rowid();
        audit(
            &transaction,
            actor,
            "token.create",
            &format!("token:{name}"),
            json!({ "roles": roles }),
        )?;
        transaction.commit()?;
        Ok(ApiToken {
            id,
            name: name.to_owned(),
            roles,
            created_at,
            revoked_at: None,
        })
    }

    fn tokens(&self) -> Result<Vec<ApiToken>, Error> {
        let connection = self.lock();
        let mut statement =
            connection.prepare(&format!("SELECT {COLUMNS} FROM api_token ORDER BY name"))?;
        let rows = statement.query_map([], token_row)?;
        rows.map(|row| to_token(row?)).collect()
    }

    fn token_by_secret_sha256(&self, secret_sha256: &str) -> Result<Option<ApiToken>, Error> {
        self.lock()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM api_token WHERE secret_sha256 = ?1 AND revoked_at IS NULL"
                ),
                [secret_sha256],
                token_row,
            )
            .optional()?
            .map(to_token)
            .transpose()
    }

    fn revoke_token(&self, name: &str, actor: &str) -> Result<bool, Error> {
        let mut connection = self.lock();
        let transaction = super::begin_write(&mut connection)?;
        let revoked = transaction.execute(
            "UPDATE api_token SET revoked_at = ?1 WHERE name = ?2 AND revoked_at IS NULL",
            params![crate::unix_now(), name],
        )? > 0;
        if revoked {
            audit(
                &transaction,
                actor,
                "token.revoke",
                &format!("token:{name}"),
                json!({}),
            )?;
        }
        transaction.commit()?;
        Ok(revoked)
    }
}
