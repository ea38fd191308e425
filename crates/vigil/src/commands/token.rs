//! `vigil token …`: API tokens for `vigil serve`.

use std::io::Write;

use anyhow::{Context, bail};
use serde_json::json;
use vigil_store::Role;

use super::store_access::{ACTOR, StoreSettings};
use crate::ExitStatus;

/// A token command with resolved arguments.
#[derive(Debug, Clone)]
pub(crate) enum TokenAction {
    Create { name: String, roles: Vec<Role> },
    List,
    Revoke { name: String },
}

pub(crate) fn run(
    store: &StoreSettings,
    action: TokenAction,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    match action {
        TokenAction::Create { name, roles } => {
            let engine = store.engine()?;
            let (token, secret) = engine
                .create_token(&name, &roles, ACTOR)
                .with_context(|| format!("cannot create the token {name:?}"))?;
            writeln!(
                out,
                "{}",
                json!({ "name": token.name, "roles": token.roles, "token": secret })
            )?;
            eprintln!(
                "vigil: keep this token secret; it is not shown again. Send it as `Authorization: Bearer <token>`."
            );
        }
        TokenAction::List => {
            for token in store.open()?.tokens()? {
                writeln!(
                    out,
                    "{}",
                    json!({
                        "name": token.name,
                        "roles": token.roles,
                        "created_at": token.created_at,
                        "revoked_at": token.revoked_at,
                    })
                )?;
            }
        }
        TokenAction::Revoke { name } => {
            if !store.open()?.revoke_token(&name, ACTOR)? {
                bail!("no active token named {name:?}");
            }
            writeln!(out, "{}", json!({ "revoked": name }))?;
        }
    }
    Ok(ExitStatus::Success)
}
