//! The Owner's Accounts tab (Enterprise plan): the accounts behind the
//! workspace's members and their security state.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::Action,
    server::{app_state, require},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRow {
    pub account_id: i64,
    pub name: String,
    pub email: String,
    pub status: String,
    pub locked: bool,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// Rows shown until the Accounts tab gets its own paging.
pub const ACCOUNT_ROWS: i64 = 100;

#[server(prefix = "/api", endpoint = "list_accounts")]
pub async fn list_accounts() -> Result<Vec<AccountRow>, AppError> {
    let ctx = require(Action::AccountsTab).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    Ok(sqlx::query_as!(
        AccountRow,
        "SELECT a.id AS account_id, a.display_name AS name, a.email, m.status,
                coalesce(teamroom_sign_in_blocked(a.email), false) AS \"locked!\", a.last_sign_in_at
           FROM memberships m
           JOIN accounts a ON a.id = m.account_id
          WHERE m.workspace_id = $1
          ORDER BY lower(a.display_name), a.id
          LIMIT $2",
        ctx.workspace_id,
        ACCOUNT_ROWS
    )
    .fetch_all(&mut *conn)
    .await?)
}
