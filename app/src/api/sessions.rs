//! "Your sessions" on the profile: every browser signed in to the account,
//! with where and when, and a way to end any of them. An Owner's view as
//! the person is not one of them (it is recorded and told when it ends).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{app_state, audit, require_account, session};

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
    session::list_of(
        &mut conn,
        ctx.account_id,
        &ctx.session.token_hash,
        MAX_SESSIONS_SHOWN,
    )
    .await
}

/// Ends one of the account's sessions (its next request lands on sign-in).
#[server(prefix = "/api", endpoint = "end_session")]
pub async fn end_session(session_id: i64) -> Result<(), AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ended_token_hash = session::end_one(&mut tx, ctx.account_id, session_id)
        .await?
        .ok_or(AppError::NotFound)?;
    ctx.record(
        &mut tx,
        audit::Event::new(None, audit::AuditAction::SessionEnded).target_account(ctx.account_id),
    )
    .await?;
    tx.commit().await?;
    if ended_token_hash == ctx.session.token_hash {
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
