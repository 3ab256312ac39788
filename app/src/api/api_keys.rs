//! API keys on the profile (every member, their own keys in this
//! workspace), and the Owner's "Deactivate API keys" for one member.
//! The rules and SQL live in `server::api_keys`.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{
        api_key::{parse_expiry, ApiKeyName},
        Permission,
    },
    server::{api_keys, app_state, require, Ctx},
};

/// A key as its owner's list shows it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub name: String,
    /// `trk_` and the id part, the visible start of the key.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
}

/// A key just made: `secret` is shown this once and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyInfo,
    pub secret: String,
}

/// A person's own credentials are theirs alone: whoever is viewing as them
/// (impersonation) cannot list, make or revoke their keys.
#[cfg(feature = "ssr")]
fn own_credentials(ctx: &Ctx) -> Result<(), AppError> {
    if ctx.actor_account_id != ctx.subject_account_id {
        return Err(AppError::Conflict(
            "API keys are the person's own: they are out of reach while viewing as them.".into(),
        ));
    }
    Ok(())
}

#[server(prefix = "/api", endpoint = "list_my_api_keys")]
pub async fn list_my_api_keys() -> Result<Vec<ApiKeyInfo>, AppError> {
    let ctx = require(Permission::EditOwnProfile).await?;
    own_credentials(&ctx)?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    api_keys::list(&mut conn, ctx.workspace_id, ctx.membership_id).await
}

/// Makes a key for the caller in this workspace; answers the secret once.
#[server(prefix = "/api", endpoint = "create_api_key")]
pub async fn create_api_key(
    name: String,
    expires_in_days: Option<u32>,
) -> Result<CreatedApiKey, AppError> {
    let ctx = require(Permission::EditOwnProfile).await?;
    own_credentials(&ctx)?;
    let mut errors = crate::error::FieldErrors::default();
    let name = errors.take("name", ApiKeyName::parse(&name));
    let days = errors.take("expires_in_days", parse_expiry(expires_in_days));
    let (Some(name), Some(days)) = (name, days) else {
        return Err(errors.into());
    };
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let created = api_keys::create(&mut tx, &ctx, &name, days).await?;
    tx.commit().await?;
    Ok(created)
}

/// Revokes one of the caller's own keys: it stops at its next request.
#[server(prefix = "/api", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::EditOwnProfile).await?;
    own_credentials(&ctx)?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    api_keys::revoke_own(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// The Owner (Enterprise) revokes every live key of one member of this
/// workspace at once; answers how many stopped.
#[server(prefix = "/api", endpoint = "revoke_member_api_keys")]
pub async fn revoke_member_api_keys(membership_id: i64) -> Result<u64, AppError> {
    let ctx = super::accounts::require_tab().await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let revoked = api_keys::revoke_member_keys(&mut tx, &ctx, membership_id).await?;
    tx.commit().await?;
    Ok(revoked)
}
