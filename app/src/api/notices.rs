//! Bell items that are not invitations ("Olivia Owner viewed Teamroom as
//! you"): listed unread, dismissed one by one.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{app_state, require_account, require_account_even_impersonating};

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
    Ok(sqlx::query_as!(
        BellNotice,
        "SELECT id, body, created_at FROM account_notices
          WHERE account_id = $1 AND read_at IS NULL
          ORDER BY id DESC
          LIMIT $2",
        ctx.account_id,
        MAX_NOTICES
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Marks one of the person's notices read (refused to an impersonator).
#[server(prefix = "/api", endpoint = "dismiss_notice")]
pub async fn dismiss_notice(notice_id: i64) -> Result<(), AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let done = sqlx::query!(
        "UPDATE account_notices SET read_at = now()
          WHERE account_id = $1 AND id = $2 AND read_at IS NULL",
        ctx.account_id,
        notice_id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if done == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}
