//! The workspace row as the lock every workspace-wide rule takes.

use sqlx::PgConnection;

use super::{audit::AuditAction, Ctx};
use crate::{
    api::lifecycle::Seats,
    domain::{Permission, Plan},
    error::AppError,
};

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

/// The workspace's plan, seats, and the seats in use (the count the
/// invitations and the plan change check against).
pub async fn seats(conn: &mut PgConnection, workspace_id: i64) -> Result<Seats, AppError> {
    let workspace = sqlx::query!(
        r#"SELECT plan AS "plan: Plan", seats FROM workspaces WHERE id = $1"#,
        workspace_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let used = super::invitations::seats_used(conn, workspace_id).await?;
    Ok(Seats {
        plan: workspace.plan,
        seats: workspace.seats,
        used,
    })
}

/// The Owner's plan change, under the workspace lock: a paid plan needs at
/// least the seats in use, since nobody is removed by a plan change. The
/// guard is checked again inside the transaction.
pub async fn set_plan(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    plan: Plan,
    seats: i32,
) -> Result<Seats, AppError> {
    let mut tx = pool.begin().await?;
    let ctx = &super::require_in(&mut tx, ctx, Permission::ManageWorkspace).await?;
    let before = lock(&mut tx, ctx.workspace_id).await?;
    let used = super::invitations::seats_used(&mut tx, ctx.workspace_id).await?;
    if plan != Plan::Free && i64::from(seats) < used {
        return Err(AppError::field(
            "seats",
            format!(
                "{used} full members are active or invited, so a paid plan needs at least {used} seats. \
                 Deactivate people or revoke invitations first."
            ),
        ));
    }
    sqlx::query!(
        "UPDATE workspaces SET plan = $2, seats = $3 WHERE id = $1",
        ctx.workspace_id,
        plan.as_str(),
        seats
    )
    .execute(&mut *tx)
    .await?;
    ctx.record(
        &mut tx,
        ctx.event(super::audit::AuditAction::PlanChanged)
            .details(serde_json::json!({
                "before": { "plan": before.plan.as_str(), "seats": before.seats },
                "after": { "plan": plan.as_str(), "seats": seats },
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(Seats { plan, seats, used })
}

/// An on/off rule of the workspace that only its Owner changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerSwitch {
    /// "Log in as user" (seed 002).
    AllowImpersonation,
    /// "Owners and Admins must use two-factor".
    RequireTwoFactor,
}

/// The Owner guard for a switch, taken first in the write's transaction:
/// a transfer of ownership that committed meanwhile is seen, and one that
/// starts later waits for this write.
pub async fn require_owner_in(conn: &mut PgConnection, ctx: &Ctx) -> Result<Ctx, AppError> {
    let fresh = super::require_in(conn, ctx, Permission::ManageWorkspace).await?;
    if !fresh.positions.owner {
        return Err(AppError::Forbidden);
    }
    Ok(fresh)
}

/// Sets `switch` to `on` in `ctx`'s workspace and audits an actual change
/// (setting it to what it already is writes nothing). Call
/// [`require_owner_in`] first in the same transaction. Returns whether it
/// changed.
pub async fn set_switch(
    conn: &mut PgConnection,
    ctx: &Ctx,
    switch: OwnerSwitch,
    on: bool,
) -> Result<bool, AppError> {
    // One statement per column: the column name never becomes a string.
    let changed = match switch {
        OwnerSwitch::AllowImpersonation => sqlx::query!(
            "UPDATE workspaces SET allow_impersonation = $2
          WHERE id = $1 AND allow_impersonation <> $2",
            ctx.workspace_id,
            on
        )
        .execute(&mut *conn)
        .await?
        .rows_affected(),
        OwnerSwitch::RequireTwoFactor => sqlx::query!(
            "UPDATE workspaces SET require_two_factor = $2
          WHERE id = $1 AND require_two_factor <> $2",
            ctx.workspace_id,
            on
        )
        .execute(&mut *conn)
        .await?
        .rows_affected(),
    } > 0;
    if changed {
        let (action, details) = match switch {
            OwnerSwitch::AllowImpersonation => (
                AuditAction::ImpersonationPolicyChanged,
                serde_json::json!({ "allowed": on }),
            ),
            OwnerSwitch::RequireTwoFactor => (
                AuditAction::TwoFactorPolicyChanged,
                serde_json::json!({ "required": on }),
            ),
        };
        ctx.record(conn, ctx.event(action).details(details)).await?;
    }
    Ok(changed)
}
