//! The rules of what Owners and Admins do to people after they join:
//! roles, deactivate, reactivate, delete, unlock, transfer ownership. Each
//! runs in the caller's transaction, after every check, with its audit row;
//! the member card (`api::lifecycle`), bulk actions, the REST API and SCIM
//! share them.

use sqlx::PgConnection;

use super::{
    audit, db,
    invitations::seats_used,
    time,
    workspace::{self, LockedWorkspace},
    Ctx,
};
use crate::{
    api::lifecycle::RoleName,
    domain::{Access, MemberKind, MemberStatus, Permission, Plan},
    error::AppError,
};

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

fn not_the_owner(target: &Target, what: &str) -> Result<(), AppError> {
    if target.is_owner {
        return Err(AppError::Conflict(format!(
            "The Owner cannot be {what}. Transfer ownership first."
        )));
    }
    Ok(())
}

fn not_yourself(ctx: &Ctx, target: &Target, what: &str) -> Result<(), AppError> {
    if target.id == ctx.membership_id {
        return Err(AppError::Conflict(format!("You cannot {what} yourself.")));
    }
    Ok(())
}

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

/// The permission giving or taking `role` needs.
pub fn role_action(role: RoleName, on: bool) -> Permission {
    match (role, on) {
        (RoleName::Admin, true) => Permission::GrantAdmin,
        (RoleName::Admin, false) => Permission::AdministerAdmins,
        _ => Permission::ManageManagerRoles,
    }
}

/// Gives or takes one role inside the caller's transaction, after every
/// rule; shared by the member card and bulk actions.
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
    let mut event = ctx
        .event(if on {
            audit::AuditAction::RoleGiven
        } else {
            audit::AuditAction::RoleTaken
        })
        .target_membership(membership_id)
        .details(serde_json::json!({ "role": role.label(), "before": before, "after": after }));
    if let Some(account) = target.account_id {
        event = event.target_account(account);
    }
    ctx.record(&mut *tx, event).await?;
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Deactivate,
    Reactivate,
    Delete,
}

/// Deactivates, reactivates or deletes one member inside the caller's
/// transaction, after every rule; shared by the member card and bulk
/// actions.
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
    let mut event = ctx
        .event(action)
        .target_membership(membership_id)
        .details(serde_json::json!({ "before": before, "stopped_timer_entry": stopped_timer }));
    if let Some(account) = target.account_id {
        event = event.target_account(account);
    }
    ctx.record(&mut *tx, event).await?;
    Ok(())
}

/// An identity provider's deactivation of someone who has not accepted
/// yet (SCIM `active=false` on a pending member): their link stops, an
/// unsent invitation mail is cancelled and they hold no seat. Reactivating
/// (`apply_status`) makes them pending again.
pub async fn deactivate_invitee(
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
    super::invitations::revoke_open_invitation(&mut *tx, ctx.workspace_id, membership_id).await?;
    set_status(&mut *tx, ctx, membership_id, MemberStatus::Inactive).await?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::MemberDeactivated)
            .target_membership(membership_id)
            .details(serde_json::json!({ "before": snapshot(&target) })),
    )
    .await?;
    Ok(())
}

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

/// Ends the waits after failed sign-ins on a member's account: on its
/// address, its known browsers and its two-factor codes, in the caller's
/// transaction, audited.
pub async fn unlock(tx: &mut PgConnection, ctx: &Ctx, membership_id: i64) -> Result<(), AppError> {
    let account = sqlx::query!(
        "SELECT a.id, a.email FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE m.workspace_id = $1 AND m.id = $2",
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    crate::server::credentials::clear_all_locks(&mut *tx, account.id, &account.email).await?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::AccountUnlocked)
            .target_account(account.id)
            .target_membership(membership_id),
    )
    .await?;
    Ok(())
}

/// Hands the workspace to an active full member in the caller's
/// transaction; the old Owner becomes an Admin. The workspace row is locked
/// and the caller's ownership checked again under the lock, so two racing
/// transfers leave exactly one Owner.
pub async fn transfer(
    tx: &mut PgConnection,
    ctx: &Ctx,
    membership_id: i64,
) -> Result<(), AppError> {
    let owner = workspace::lock(&mut *tx, ctx.workspace_id)
        .await?
        .owner_account_id;
    if owner != ctx.actor_account_id {
        return Err(AppError::Conflict(
            "You are no longer the Owner of this workspace.".into(),
        ));
    }
    let target = load_target(&mut *tx, ctx, membership_id).await?;
    not_yourself(ctx, &target, "transfer ownership to")?;
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
        &mut *tx,
        ctx.workspace_id,
        &[ctx.membership_id, membership_id],
    )
    .await?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::OwnershipTransferred)
            .target_membership(membership_id)
            .target_account(new_owner)
            .details(serde_json::json!({
                "from_account_id": ctx.actor_account_id,
                "to": { "name": target.name, "email": target.email },
            })),
    )
    .await?;
    Ok(())
}
