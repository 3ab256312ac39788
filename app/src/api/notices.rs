//! Bell items that are not invitations ("Olivia Owner viewed Teamroom as
//! you"): listed unread, dismissed one by one.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{app_state, notices, require_account, require_account_even_impersonating};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BellNotice {
    pub id: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Unread notices shown at most.
pub const MAX_NOTICES: i64 = 50;

/// The signed-in person's unread notices. An Owner viewing as them sees
/// none: the bell is the person's own (it tells them about such views).
#[server(prefix = "/api", endpoint = "my_notices")]
pub async fn my_notices() -> Result<Vec<BellNotice>, AppError> {
    let ctx = require_account_even_impersonating().await?;
    if ctx.impersonator_account_id.is_some() {
        return Ok(Vec::new());
    }
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    notices::unread(&mut conn, ctx.account_id, MAX_NOTICES).await
}

/// Marks one of the person's notices read (refused to an impersonator).
#[server(prefix = "/api", endpoint = "dismiss_notice")]
pub async fn dismiss_notice(notice_id: i64) -> Result<(), AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    if !notices::dismiss(&mut conn, ctx.account_id, notice_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}
