//! The Team page's first view: who is in the workspace.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{domain::Positions, error::AppError};
#[cfg(feature = "ssr")]
use crate::{
    domain::{Access, Action},
    server::{app_state, require},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    pub membership_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub positions: Positions,
    pub status: String,
    pub kind: String,
    pub last_active_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    pub total: i64,
    pub members: Vec<MemberRow>,
}

/// Rows shown before the full directory (search, filters, paging) arrives.
pub const OVERVIEW_ROWS: i64 = 100;

#[cfg(feature = "ssr")]
struct MemberDbRow {
    membership_id: i64,
    name: String,
    email: Option<String>,
    is_owner: bool,
    is_admin: bool,
    is_project_manager: bool,
    is_team_manager: bool,
    status: String,
    kind: String,
    last_active_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

#[server(prefix = "/api", endpoint = "team_overview")]
pub async fn team_overview() -> Result<TeamSummary, AppError> {
    let ctx = require(Action::ViewTeam).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    // Managers' read-only view is scoped; until teams and projects exist
    // their scope is themselves.
    let only_account = (ctx.access == Access::Scoped).then_some(ctx.subject_account_id);
    let total: i64 = sqlx::query_scalar!(
        "SELECT count(*) AS \"count!\" FROM memberships
          WHERE workspace_id = $1 AND ($2::bigint IS NULL OR account_id = $2)",
        ctx.workspace_id,
        only_account
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as!(
        MemberDbRow,
        "SELECT m.id AS membership_id,
                coalesce(m.display_name, a.display_name, m.invited_email) AS \"name!\",
                coalesce(a.email, m.invited_email) AS email,
                coalesce(w.owner_account_id = m.account_id, false) AS \"is_owner!\",
                m.is_admin, m.is_project_manager, m.is_team_manager,
                m.status, m.kind, m.last_active_at, m.created_at
           FROM memberships m
           JOIN workspaces w ON w.id = m.workspace_id
           LEFT JOIN accounts a ON a.id = m.account_id
          WHERE m.workspace_id = $1 AND ($2::bigint IS NULL OR m.account_id = $2)
          ORDER BY lower(coalesce(m.display_name, a.display_name, m.invited_email)), m.id
          LIMIT $3",
        ctx.workspace_id,
        only_account,
        OVERVIEW_ROWS
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(TeamSummary {
        total,
        members: rows
            .into_iter()
            .map(|r| MemberRow {
                membership_id: r.membership_id,
                name: r.name,
                email: r.email,
                positions: Positions {
                    owner: r.is_owner,
                    admin: r.is_admin,
                    project_manager: r.is_project_manager,
                    team_manager: r.is_team_manager,
                },
                status: r.status,
                kind: r.kind,
                last_active_at: r.last_active_at,
                created_at: r.created_at,
            })
            .collect(),
    })
}
