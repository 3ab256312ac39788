//! "Your sessions" on the profile: every browser signed in to the account,
//! with where and when, and a way to end any of them. An Owner's view as
//! the person is not one of them (it is recorded and told when it ends).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{app_state, audit, require_account, session, user_agent};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: i64,
    /// "Firefox on Windows".
    pub device: String,
    pub ip: Option<String>,
    pub signed_in_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The session this request came with.
    pub this_device: bool,
}

/// Sessions shown at most; an account rarely has more than a handful.
pub const MAX_SESSIONS_SHOWN: i64 = 200;

#[server(prefix = "/api", endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let rows = sqlx::query!(
        "SELECT id, token_hash, user_agent, ip, created_at, last_seen_at
           FROM sessions
          WHERE account_id = $1 AND expires_at > now() AND impersonator_account_id IS NULL
          ORDER BY token_hash = $2 DESC, last_seen_at DESC
          LIMIT $3",
        ctx.account_id,
        &ctx.session.token_hash,
        MAX_SESSIONS_SHOWN
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| SessionInfo {
            id: row.id,
            device: row
                .user_agent
                .as_deref()
                .map(user_agent::describe)
                .unwrap_or_else(|| "Unknown browser".to_owned()),
            ip: row.ip,
            signed_in_at: row.created_at,
            last_seen_at: row.last_seen_at,
            this_device: row.token_hash == ctx.session.token_hash,
        })
        .collect())
}

/// Ends one of the account's sessions (its next request lands on sign-in).
#[server(prefix = "/api", endpoint = "end_session")]
pub async fn end_session(session_id: i64) -> Result<(), AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ended = sqlx::query!(
        "DELETE FROM sessions
          WHERE account_id = $1 AND id = $2 AND impersonator_account_id IS NULL
      RETURNING token_hash",
        ctx.account_id,
        session_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    ctx.record(
        &mut tx,
        audit::Event::new(None, audit::AuditAction::SessionEnded).target_account(ctx.account_id),
    )
    .await?;
    tx.commit().await?;
    if ended.token_hash == ctx.session.token_hash {
        super::set_cookie(session::clear_cookie(&state.auth, ctx.meta.secure))?;
    }
    Ok(())
}

/// Ends every session of the account but this one; answers how many.
#[server(prefix = "/api", endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ended = session::end_all(&mut tx, ctx.account_id, Some(&ctx.session.token_hash)).await?;
    ctx.record(
        &mut tx,
        audit::Event::new(None, audit::AuditAction::OtherSessionsEnded)
            .target_account(ctx.account_id)
            .details(serde_json::json!({ "ended": ended })),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}
