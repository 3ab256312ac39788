//! SCIM tokens on the Settings page: the Enterprise Owner makes a token for
//! an identity provider (shown once), sees when each was last used and
//! revokes them. Anyone else gets NotFound. The rules and SQL live in
//! `server::scim`; the SCIM protocol itself is served at `/scim/v2`.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{api_key::ApiKeyName, Permission},
    server::{app_state, require, scim, Ctx},
};

/// A token as the list shows it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimTokenInfo {
    pub id: i64,
    pub name: String,
    /// `trs_` and the id part, the visible start of the token.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
}

/// A token just made: `secret` is shown this once and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedScimToken {
    pub token: ScimTokenInfo,
    pub secret: String,
}

/// The Enterprise Owner, acting as themselves; NotFound for everyone else
/// (the feature does not exist for them).
#[cfg(feature = "ssr")]
async fn require_scim_owner() -> Result<Ctx, AppError> {
    let ctx = require(Permission::ManageScim)
        .await
        .map_err(|error| match error {
            AppError::Forbidden => AppError::NotFound,
            other => other,
        })?;
    if ctx.is_impersonating() {
        return Err(AppError::NotFound);
    }
    Ok(ctx)
}

#[server(prefix = "/api", endpoint = "list_scim_tokens")]
pub async fn list_scim_tokens() -> Result<Vec<ScimTokenInfo>, AppError> {
    let ctx = require_scim_owner().await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    scim::list_tokens(&mut conn, ctx.workspace_id).await
}

#[server(prefix = "/api", endpoint = "create_scim_token")]
pub async fn create_scim_token(name: String) -> Result<CreatedScimToken, AppError> {
    let ctx = require_scim_owner().await?;
    let name = ApiKeyName::parse(&name).map_err(|m| AppError::field("name", m))?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let created = scim::create_token(&mut tx, &ctx, &name).await?;
    tx.commit().await?;
    Ok(created)
}

#[server(prefix = "/api", endpoint = "revoke_scim_token")]
pub async fn revoke_scim_token(id: i64) -> Result<(), AppError> {
    let ctx = require_scim_owner().await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    scim::revoke_token(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(())
}
