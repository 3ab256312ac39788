//! What owners and admins do to people after they join: roles, deactivate,
//! reactivate, delete, transfer ownership. Every rule is checked here, in
//! the transaction that makes the change, however the request arrives.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{domain::Plan, error::AppError};
#[cfg(feature = "ssr")]
use crate::{
    domain::{Access, MemberKind, MemberStatus, Permission},
    server::{
        app_state, audit, db,
        invitations::seats_used,
        require, require_in, time,
        workspace::{self, LockedWorkspace},
        Ctx,
    },
};

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

#[cfg(feature = "ssr")]
#[derive(Debug)]
struct Target {
    id: i64,
    account_id: Option<i64>,
    kind: MemberKind,
    status: MemberStatus,
    is_admin: bool,
    is_project_manager: bool,
    is_team_manager: bool,
    is_owner: bool,
    name: String,
    email: Option<String>,
}

/// The member acted on, locked for the transaction; NotFound outside the
/// actor's workspace (ids from another workspace reveal nothing).
#[cfg(feature = "ssr")]
async fn load_target(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    membership_id: i64,
) -> Result<Target, AppError> {
    sqlx::query_as!(
        Target,
        r#"SELECT m.id, m.account_id, m.kind AS "kind: MemberKind", m.status AS "status: MemberStatus",
                  m.is_admin, m.is_project_manager,
                  m.is_team_manager,
                  (w.owner_account_id = m.account_id) IS TRUE AS "is_owner!",
                  teamroom_member_name(m, a) AS "name!",
                  coalesce(a.email, m.invited_email) AS email
             FROM memberships m
             JOIN workspaces w ON w.id = m.workspace_id
             LEFT JOIN accounts a ON a.id = m.account_id
            WHERE m.workspace_id = $1 AND m.id = $2
              FOR UPDATE OF m"#,
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// Admins are the Owner's to deactivate, delete or demote.
#[cfg(feature = "ssr")]
fn owner_only_for_admins(ctx: &Ctx, target: &Target, what: &str) -> Result<(), AppError> {
    if target.is_admin
        && ctx.positions.access(Permission::AdministerAdmins, ctx.plan) == Access::Denied
    {
        return Err(AppError::Conflict(format!(
            "Only the Owner can {what} an Admin."
        )));
    }
    Ok(())
}

#[cfg(feature = "ssr")]
fn not_the_owner(target: &Target, what: &str) -> Result<(), AppError> {
    if target.is_owner {
        return Err(AppError::Conflict(format!(
            "The Owner cannot be {what}. Transfer ownership first."
        )));
    }
    Ok(())
}

#[cfg(feature = "ssr")]
fn not_yourself(ctx: &Ctx, target: &Target, what: &str) -> Result<(), AppError> {
    if target.id == ctx.membership_id {
        return Err(AppError::Conflict(format!("You cannot {what} yourself.")));
    }
    Ok(())
}

#[cfg(feature = "ssr")]
fn snapshot(target: &Target) -> serde_json::Value {
    serde_json::json!({
        "name": target.name,
        "email": target.email,
        "status": target.status,
        "admin": target.is_admin,
        "project_manager": target.is_project_manager,
        "team_manager": target.is_team_manager,
    })
}

/// Gives or takes one role. Anyone who may manage roles gives Admin; only
/// the Owner takes it away. Nobody changes the Owner's roles, and nobody
/// raises their own.
#[server(prefix = "/api", endpoint = "set_member_role")]
pub async fn set_member_role(membership_id: i64, role: RoleName, on: bool) -> Result<(), AppError> {
    let ctx = require(role_action(role, on)).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ctx = require_in(&mut tx, &ctx, role_action(role, on)).await?;
    apply_role(&mut tx, &ctx, membership_id, role, on).await?;
    tx.commit().await?;
    Ok(())
}

/// The permission giving or taking `role` needs.
#[cfg(feature = "ssr")]
pub fn role_action(role: RoleName, on: bool) -> Permission {
    match (role, on) {
        (RoleName::Admin, true) => Permission::GrantAdmin,
        (RoleName::Admin, false) => Permission::AdministerAdmins,
        _ => Permission::ManageManagerRoles,
    }
}

/// Gives or takes one role inside the caller's transaction, after every
/// rule; shared by the member card and bulk actions.
#[cfg(feature = "ssr")]
pub async fn apply_role(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    membership_id: i64,
    role: RoleName,
    on: bool,
) -> Result<(), AppError> {
    let target = load_target(&mut *tx, ctx, membership_id).await?;
    if target.is_owner {
        return Err(AppError::Conflict(
            "The Owner's roles change only by transferring ownership.".into(),
        ));
    }
    if target.id == ctx.membership_id && on {
        return Err(AppError::Conflict("You cannot raise your own role.".into()));
    }
    if target.kind != MemberKind::Full {
        return Err(AppError::Conflict(
            "Limited members cannot hold roles; they only clock in at the Kiosk.".into(),
        ));
    }
    let before = snapshot(&target);
    let (admin, pm, tm) = match role {
        RoleName::Admin => (on, target.is_project_manager, target.is_team_manager),
        RoleName::ProjectManager => (target.is_admin, on, target.is_team_manager),
        RoleName::TeamManager => (target.is_admin, target.is_project_manager, on),
    };
    sqlx::query!(
        "UPDATE memberships SET is_admin = $3, is_project_manager = $4, is_team_manager = $5
          WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        membership_id,
        admin,
        pm,
        tm
    )
    .execute(&mut *tx)
    .await?;
    let mut touched = vec![membership_id];
    if role == RoleName::TeamManager && !on {
        // An assigned team manager must hold the role: their team is unassigned.
        touched.extend(
            sqlx::query_scalar!(
                "UPDATE memberships SET team_manager_id = NULL
                  WHERE workspace_id = $1 AND team_manager_id = $2 RETURNING id",
                ctx.workspace_id,
                membership_id
            )
            .fetch_all(&mut *tx)
            .await?,
        );
    }
    db::refresh_member_keys(&mut *tx, ctx.workspace_id, &touched).await?;
    let after = serde_json::json!({ "admin": admin, "project_manager": pm, "team_manager": tm });
    let mut event = audit::Event::new(
        Some(ctx.workspace_id),
        if on {
            audit::AuditAction::RoleGiven
        } else {
            audit::AuditAction::RoleTaken
        },
    )
    .target_membership(membership_id)
    .details(serde_json::json!({ "role": role.label(), "before": before, "after": after }));
    if let Some(account) = target.account_id {
        event = event.target_account(account);
    }
    audit::record(&mut *tx, &ctx.actor(), event).await?;
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
    let account = sqlx::query!(
        "SELECT a.id, a.email FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE m.workspace_id = $1 AND m.id = $2",
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    crate::server::credentials::clear_all_locks(&mut tx, account.id, &account.email).await?;
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(Some(ctx.workspace_id), audit::AuditAction::AccountUnlocked)
            .target_account(account.id)
            .target_membership(membership_id),
    )
    .await?;
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
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Deactivate,
    Reactivate,
    Delete,
}

#[cfg(feature = "ssr")]
async fn change_status(membership_id: i64, change: Change) -> Result<(), AppError> {
    let ctx = require(Permission::ManageMembers).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ctx = require_in(&mut tx, &ctx, Permission::ManageMembers).await?;
    let workspace = workspace::lock(&mut tx, ctx.workspace_id).await?;
    apply_status(&mut tx, &ctx, &workspace, membership_id, change).await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates, reactivates or deletes one member inside the caller's
/// transaction, after every rule; shared by the member card and bulk
/// actions.
#[cfg(feature = "ssr")]
pub async fn apply_status(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    workspace: &LockedWorkspace,
    membership_id: i64,
    change: Change,
) -> Result<(), AppError> {
    let target = load_target(&mut *tx, ctx, membership_id).await?;
    let verb = match change {
        Change::Deactivate => "deactivate",
        Change::Reactivate => "reactivate",
        Change::Delete => "delete",
    };
    not_yourself(ctx, &target, verb)?;
    not_the_owner(
        &target,
        match change {
            Change::Delete => "deleted",
            _ => "deactivated",
        },
    )?;
    owner_only_for_admins(ctx, &target, verb)?;
    let before = snapshot(&target);
    let mut stopped_timer = None;
    let action = match change {
        Change::Deactivate => {
            if target.status != MemberStatus::Active {
                return Err(AppError::Conflict(
                    if target.status == MemberStatus::Pending {
                        "A pending invitation is revoked, not deactivated.".into()
                    } else {
                        format!("{} is already inactive.", target.name)
                    },
                ));
            }
            set_status(&mut *tx, ctx, membership_id, MemberStatus::Inactive).await?;
            // Their API keys stop with them, for good (a reactivation does
            // not bring them back).
            crate::server::api_keys::revoke_all(
                &mut *tx,
                &ctx.actor(),
                ctx.workspace_id,
                membership_id,
                target.account_id,
                crate::server::api_keys::RevokeAllReason::Deactivated,
            )
            .await?;
            // Saved with the deactivation's own time: both use the
            // transaction's now().
            stopped_timer = time::stop_running(&mut *tx, ctx.workspace_id, membership_id).await?;
            audit::AuditAction::MemberDeactivated
        }
        Change::Reactivate => {
            if target.status != MemberStatus::Inactive {
                return Err(AppError::Conflict(format!(
                    "{} is not inactive.",
                    target.name
                )));
            }
            if workspace.plan != Plan::Free && target.kind == MemberKind::Full {
                let used = seats_used(&mut *tx, ctx.workspace_id).await?;
                if used >= i64::from(workspace.seats) {
                    return Err(AppError::Conflict(format!(
                        "All {} seats are taken. Add a seat in Settings or deactivate someone first.",
                        workspace.seats
                    )));
                }
            }
            // An invitee an identity provider deactivated is invited again
            // (pending), not active: they have no account yet.
            let back = if target.account_id.is_some() {
                MemberStatus::Active
            } else {
                MemberStatus::Pending
            };
            set_status(&mut *tx, ctx, membership_id, back).await?;
            audit::AuditAction::MemberReactivated
        }
        Change::Delete => {
            if target.status != MemberStatus::Inactive {
                return Err(AppError::Conflict(format!(
                    "Only an inactive member can be deleted: deactivate {} first.",
                    target.name
                )));
            }
            // People who had them as team manager lose that name from search.
            let managed: Vec<i64> = sqlx::query_scalar!(
                "SELECT id FROM memberships WHERE workspace_id = $1 AND team_manager_id = $2",
                ctx.workspace_id,
                membership_id
            )
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query!(
                "DELETE FROM memberships WHERE workspace_id = $1 AND id = $2",
                ctx.workspace_id,
                membership_id
            )
            .execute(&mut *tx)
            .await?;
            db::refresh_member_keys(&mut *tx, ctx.workspace_id, &managed).await?;
            audit::AuditAction::MemberDeleted
        }
    };
    let mut event = audit::Event::new(Some(ctx.workspace_id), action)
        .target_membership(membership_id)
        .details(serde_json::json!({ "before": before, "stopped_timer_entry": stopped_timer }));
    if let Some(account) = target.account_id {
        event = event.target_account(account);
    }
    audit::record(&mut *tx, &ctx.actor(), event).await?;
    Ok(())
}

/// An identity provider's deactivation of someone who has not accepted
/// yet (SCIM `active=false` on a pending member): their link stops, an
/// unsent invitation mail is cancelled and they hold no seat. Reactivating
/// (`apply_status`) makes them pending again.
#[cfg(feature = "ssr")]
pub(crate) async fn deactivate_invitee(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    membership_id: i64,
) -> Result<(), AppError> {
    let target = load_target(&mut *tx, ctx, membership_id).await?;
    if target.status != MemberStatus::Pending || target.account_id.is_some() {
        return Err(AppError::Conflict(format!(
            "{} has no pending invitation.",
            target.name
        )));
    }
    sqlx::query!(
        "UPDATE invitations SET state = 'revoked', ended_at = now()
          WHERE workspace_id = $1 AND membership_id = $2 AND state = 'open'",
        ctx.workspace_id,
        membership_id
    )
    .execute(&mut *tx)
    .await?;
    crate::server::outbox::cancel_for_membership(&mut *tx, ctx.workspace_id, membership_id).await?;
    set_status(&mut *tx, ctx, membership_id, MemberStatus::Inactive).await?;
    audit::record(
        &mut *tx,
        &ctx.actor(),
        audit::Event::new(
            Some(ctx.workspace_id),
            audit::AuditAction::MemberDeactivated,
        )
        .target_membership(membership_id)
        .details(serde_json::json!({ "before": snapshot(&target) })),
    )
    .await?;
    Ok(())
}

#[cfg(feature = "ssr")]
async fn set_status(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    membership_id: i64,
    status: MemberStatus,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE memberships SET status = $3 WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        membership_id,
        status.as_str()
    )
    .execute(conn)
    .await?;
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
    let owner = workspace::lock(&mut tx, ctx.workspace_id)
        .await?
        .owner_account_id;
    if owner != ctx.actor_account_id {
        return Err(AppError::Conflict(
            "You are no longer the Owner of this workspace.".into(),
        ));
    }
    let target = load_target(&mut tx, &ctx, membership_id).await?;
    not_yourself(&ctx, &target, "transfer ownership to")?;
    let Some(new_owner) = target
        .account_id
        .filter(|_| target.kind == MemberKind::Full && target.status == MemberStatus::Active)
    else {
        return Err(AppError::Conflict(format!(
            "Ownership goes to an active full member; {} is {} ({}).",
            target.name,
            target.status.as_str(),
            target.kind.as_str()
        )));
    };
    sqlx::query!(
        "UPDATE workspaces SET owner_account_id = $2 WHERE id = $1",
        ctx.workspace_id,
        new_owner
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE memberships SET is_admin = true WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        ctx.membership_id
    )
    .execute(&mut *tx)
    .await?;
    db::refresh_member_keys(
        &mut tx,
        ctx.workspace_id,
        &[ctx.membership_id, membership_id],
    )
    .await?;
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(
            Some(ctx.workspace_id),
            audit::AuditAction::OwnershipTransferred,
        )
        .target_membership(membership_id)
        .target_account(new_owner)
        .details(serde_json::json!({
            "from_account_id": ctx.actor_account_id,
            "to": { "name": target.name, "email": target.email },
        })),
    )
    .await?;
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
    Ok(sqlx::query_as!(
        Seats,
        r#"SELECT w.plan AS "plan: Plan", w.seats,
                  (SELECT count(*) FROM memberships m
                    WHERE m.workspace_id = w.id AND m.kind = 'full' AND m.status <> 'inactive') AS "used!"
             FROM workspaces w WHERE w.id = $1"#,
        ctx.workspace_id
    )
    .fetch_one(&mut *conn)
    .await?)
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
    let mut tx = state.pool.begin().await?;
    let ctx = require_in(&mut tx, &ctx, Permission::ManageWorkspace).await?;
    let before = workspace::lock(&mut tx, ctx.workspace_id).await?;
    let used = seats_used(&mut tx, ctx.workspace_id).await?;
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
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(Some(ctx.workspace_id), audit::AuditAction::PlanChanged).details(
            serde_json::json!({
                "before": { "plan": before.plan.as_str(), "seats": before.seats },
                "after": { "plan": plan.as_str(), "seats": seats },
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Seats { plan, seats, used })
}
