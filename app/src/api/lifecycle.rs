//! What owners and admins do to people after they join, on the wire: roles,
//! deactivate, reactivate, delete, unlock, transfer ownership, the plan.
//! Each function checks the guard, opens the transaction and calls its rule
//! in `server::lifecycle`, which bulk actions, REST and SCIM share.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    domain::Permission,
    server::{
        app_state,
        lifecycle::{self as rules, Change},
        require, require_in, workspace,
    },
};
use crate::{domain::Plan, error::AppError};

/// The roles the "+Role" control gives or takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleName {
    Admin,
    ProjectManager,
    TeamManager,
}

impl RoleName {
    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "Admin",
            Self::ProjectManager => "Project manager",
            Self::TeamManager => "Team manager",
        }
    }
}

/// Gives or takes one role. Anyone who may manage roles gives Admin; only
/// the Owner takes it away. Nobody changes the Owner's roles, and nobody
/// raises their own.
#[server(prefix = "/api", endpoint = "set_member_role")]
pub async fn set_member_role(membership_id: i64, role: RoleName, on: bool) -> Result<(), AppError> {
    let ctx = require(rules::role_action(role, on)).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ctx = require_in(&mut tx, &ctx, rules::role_action(role, on)).await?;
    rules::apply_role(&mut tx, &ctx, membership_id, role, on).await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates a member: they lose access to this workspace on their very
/// next request, on every device (the guard reloads the membership on each
/// request); their seat is freed; their data stays.
#[server(prefix = "/api", endpoint = "deactivate_member")]
pub async fn deactivate_member(membership_id: i64) -> Result<(), AppError> {
    change_status(membership_id, Change::Deactivate).await
}

/// Unlocks a member's account after failed sign-ins (seed 002): the waits
/// on its address, its known browsers and its two-factor codes end now
/// instead of within 15 minutes. Owners and Admins.
#[server(prefix = "/api", endpoint = "unlock_member")]
pub async fn unlock_member(membership_id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::UnlockAccount).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ctx = require_in(&mut tx, &ctx, Permission::UnlockAccount).await?;
    rules::unlock(&mut tx, &ctx, membership_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives access back (no email is sent); needs a free seat on paid plans.
#[server(prefix = "/api", endpoint = "reactivate_member")]
pub async fn reactivate_member(membership_id: i64) -> Result<(), AppError> {
    change_status(membership_id, Change::Reactivate).await
}

/// Removes an inactive member for good. Their time stays in reports under
/// "Deleted user"; to come back they need a new invitation.
#[server(prefix = "/api", endpoint = "delete_member")]
pub async fn delete_member(membership_id: i64) -> Result<(), AppError> {
    change_status(membership_id, Change::Delete).await
}

#[cfg(feature = "ssr")]
async fn change_status(membership_id: i64, change: Change) -> Result<(), AppError> {
    let ctx = require(Permission::ManageMembers).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ctx = require_in(&mut tx, &ctx, Permission::ManageMembers).await?;
    let workspace = workspace::lock(&mut tx, ctx.workspace_id).await?;
    rules::apply_status(&mut tx, &ctx, &workspace, membership_id, change).await?;
    tx.commit().await?;
    Ok(())
}

/// Hands the workspace to an active full member; the old Owner becomes an
/// Admin. The workspace row is locked and the caller's ownership checked
/// again under the lock, so two racing transfers leave exactly one Owner.
#[server(prefix = "/api", endpoint = "transfer_ownership")]
pub async fn transfer_ownership(membership_id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::TransferOwnership).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ctx = require_in(&mut tx, &ctx, Permission::TransferOwnership).await?;
    rules::transfer(&mut tx, &ctx, membership_id).await?;
    tx.commit().await?;
    Ok(())
}

/// The workspace's plan and seats as the settings page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seats {
    pub plan: Plan,
    pub seats: i32,
    /// Active and pending full members: each holds a seat on paid plans.
    pub used: i64,
}

/// Most seats a workspace can buy here (there is no payment step).
pub const MAX_SEATS: i32 = 1_000_000;

#[server(prefix = "/api", endpoint = "seat_usage")]
pub async fn seat_usage() -> Result<Seats, AppError> {
    let ctx = require(Permission::ViewTeam).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    workspace::seats(&mut conn, ctx.workspace_id).await
}

/// The Owner picks the plan and the seat count. A paid plan needs at
/// least as many seats as are in use: nobody is removed by a plan change.
#[server(prefix = "/api", endpoint = "set_plan")]
pub async fn set_plan(plan: String, seats: String) -> Result<Seats, AppError> {
    let ctx = require(Permission::ManageWorkspace).await?;
    let plan = Plan::parse(plan.trim()).map_err(|m| AppError::field("plan", m))?;
    let seats: i32 = seats
        .trim()
        .parse()
        .ok()
        .filter(|n| (0..=MAX_SEATS).contains(n))
        .ok_or_else(|| {
            AppError::field(
                "seats",
                format!("Seats is a whole number from 0 to {MAX_SEATS}."),
            )
        })?;
    let state = app_state()?;
    workspace::set_plan(&state.pool, &ctx, plan, seats).await
}
