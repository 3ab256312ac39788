//! The workspace row as the lock every workspace-wide rule takes.

use sqlx::PgConnection;

use crate::{domain::Plan, error::AppError};

/// The workspace as read under its lock.
#[derive(Debug, Clone)]
pub struct LockedWorkspace {
    pub name: String,
    pub plan: Plan,
    pub seats: i32,
    pub owner_account_id: i64,
}

/// Locks the workspace row (`FOR UPDATE`) until the transaction ends, and
/// reads it. Every write whose rule counts across the workspace takes it
/// first: seats (invitations, reactivation, the plan), the hourly
/// invitation limit, the Owner (a transfer), SCIM's userName uniqueness
/// and the live SCIM token count. Two such writes run one after the other,
/// each seeing what the other committed; and since each takes this lock
/// before any member row, they agree on one lock order.
pub async fn lock(conn: &mut PgConnection, workspace_id: i64) -> Result<LockedWorkspace, AppError> {
    Ok(sqlx::query_as!(
        LockedWorkspace,
        r#"SELECT name, plan AS "plan: Plan", seats, owner_account_id
             FROM workspaces WHERE id = $1 FOR UPDATE"#,
        workspace_id
    )
    .fetch_one(conn)
    .await?)
}
