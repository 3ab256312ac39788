//! Bulk actions on the Team list: deactivate, reactivate, give or take a
//! role, add to or take out of a group, for a selection of rows or for
//! every member matching the current view. The browser calls this once per
//! batch (a progress bar), each batch one transaction; every member is
//! checked against the same rules as the member card, and whoever a rule
//! refuses is reported with the reason instead of failing the batch.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use super::lifecycle::RoleName;
use crate::{domain::directory::DirectoryParams, error::AppError};
#[cfg(feature = "ssr")]
use crate::{
    domain::{directory::DirectoryQuery, Permission},
    server::{app_state, audit, db, directory, require, Ctx},
};

/// Ids sent per call when the selection is a list of rows.
pub const BATCH_SIZE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkOp {
    Deactivate,
    Reactivate,
    GiveRole(RoleName),
    TakeRole(RoleName),
    AddToGroup(i64),
    RemoveFromGroup(i64),
}

impl BulkOp {
    /// "Deactivate", "Give Admin"...: the button and the report say this.
    pub fn label(self) -> String {
        match self {
            BulkOp::Deactivate => "Deactivate".into(),
            BulkOp::Reactivate => "Reactivate".into(),
            BulkOp::GiveRole(role) => format!("Give {}", role.label()),
            BulkOp::TakeRole(role) => format!("Take {}", role.label()),
            BulkOp::AddToGroup(_) => "Add to group".into(),
            BulkOp::RemoveFromGroup(_) => "Remove from group".into(),
        }
    }

    #[cfg(feature = "ssr")]
    fn action(self) -> Permission {
        match self {
            BulkOp::Deactivate | BulkOp::Reactivate => Permission::ManageMembers,
            BulkOp::GiveRole(role) => crate::server::lifecycle::role_action(role, true),
            BulkOp::TakeRole(role) => crate::server::lifecycle::role_action(role, false),
            BulkOp::AddToGroup(_) | BulkOp::RemoveFromGroup(_) => {
                Permission::ManageGroupsAndProjects
            }
        }
    }
}

/// Whom the action is for: rows picked by hand, or every member matching
/// a Team-page view (walked page by page with the list's own cursor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BulkSelection {
    Rows(Vec<i64>),
    Matching {
        view: DirectoryParams,
        after: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub membership_id: i64,
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkStep {
    pub done: u32,
    pub skipped: Vec<Skipped>,
    /// For `Matching`: where the next call continues; None when finished.
    pub after: Option<String>,
}

#[server(prefix = "/api", endpoint = "bulk_members", input = Json)]
pub async fn bulk_members(op: BulkOp, selection: BulkSelection) -> Result<BulkStep, AppError> {
    let ctx = require(op.action()).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let (ids, after) = match selection {
        BulkSelection::Rows(ids) => {
            if ids.len() > BATCH_SIZE {
                return Err(AppError::field(
                    "members",
                    format!("Send at most {BATCH_SIZE} members per call."),
                ));
            }
            let mut ids = ids;
            ids.sort_unstable();
            ids.dedup();
            (ids, None)
        }
        BulkSelection::Matching { view, after } => {
            let query = DirectoryQuery::parse(&view)?;
            let scope = crate::server::directory::Scope::of(&ctx);
            let listing =
                directory::Listing::prepare(&mut conn, ctx.workspace_id, scope, &query).await?;
            let page = directory::page_ids(&mut conn, &listing, after.as_deref()).await?;
            (page.ids, page.next)
        }
    };
    drop(conn);
    let mut step = apply(&ctx, op, &ids).await?;
    step.after = after;
    Ok(step)
}

#[cfg(feature = "ssr")]
async fn apply(ctx: &Ctx, op: BulkOp, ids: &[i64]) -> Result<BulkStep, AppError> {
    use crate::server::lifecycle::{apply_role, apply_status, Change};

    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ctx = &crate::server::require_in(&mut tx, ctx, op.action()).await?;
    let workspace = crate::server::workspace::lock(&mut tx, ctx.workspace_id).await?;
    if let BulkOp::AddToGroup(group) | BulkOp::RemoveFromGroup(group) = op {
        crate::server::groups::require_group(&mut tx, ctx.workspace_id, group).await?;
    }
    let mut step = BulkStep::default();
    for &id in ids {
        // Each member in a savepoint: a refusal leaves nothing half-done
        // and the rest of the batch goes on.
        sqlx::query("SAVEPOINT bulk_member")
            .execute(&mut *tx)
            .await?;
        let result = match op {
            BulkOp::Deactivate => {
                apply_status(&mut tx, ctx, &workspace, id, Change::Deactivate).await
            }
            BulkOp::Reactivate => {
                apply_status(&mut tx, ctx, &workspace, id, Change::Reactivate).await
            }
            BulkOp::GiveRole(role) => apply_role(&mut tx, ctx, id, role, true).await,
            BulkOp::TakeRole(role) => apply_role(&mut tx, ctx, id, role, false).await,
            BulkOp::AddToGroup(group) => group_membership(&mut tx, ctx, id, group, true).await,
            BulkOp::RemoveFromGroup(group) => {
                group_membership(&mut tx, ctx, id, group, false).await
            }
        };
        match result {
            Ok(()) => {
                sqlx::query("RELEASE SAVEPOINT bulk_member")
                    .execute(&mut *tx)
                    .await?;
                step.done += 1;
            }
            Err(error @ (AppError::Conflict(_) | AppError::NotFound | AppError::Forbidden)) => {
                sqlx::query("ROLLBACK TO SAVEPOINT bulk_member")
                    .execute(&mut *tx)
                    .await?;
                let name: Option<String> = sqlx::query_scalar!(
                    "SELECT teamroom_member_name(m, a) AS name
                       FROM memberships m LEFT JOIN accounts a ON a.id = m.account_id
                      WHERE m.workspace_id = $1 AND m.id = $2",
                    ctx.workspace_id,
                    id
                )
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
                step.skipped.push(Skipped {
                    membership_id: id,
                    name: name.unwrap_or_else(|| format!("Member #{id}")),
                    reason: match error {
                        AppError::NotFound => "Not a member of this workspace.".into(),
                        other => other.to_string(),
                    },
                });
            }
            Err(other) => return Err(other),
        }
    }
    tx.commit().await?;
    Ok(step)
}

/// Puts one member in a group or takes them out; saying so when there is
/// nothing to do.
#[cfg(feature = "ssr")]
async fn group_membership(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    membership_id: i64,
    group_id: i64,
    add: bool,
) -> Result<(), AppError> {
    let exists = sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM memberships WHERE workspace_id = $1 AND id = $2) AS \"exists!\"",
        ctx.workspace_id,
        membership_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if !exists {
        return Err(AppError::NotFound);
    }
    if !add {
        return if crate::server::groups::take_out_of_group(&mut *tx, ctx, group_id, membership_id)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::Conflict("Not in the group.".into()))
        };
    }
    let added = sqlx::query!(
        "INSERT INTO group_members (workspace_id, group_id, membership_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        ctx.workspace_id,
        group_id,
        membership_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if added == 0 {
        return Err(AppError::Conflict("Already in the group.".into()));
    }
    db::refresh_member_keys(&mut *tx, ctx.workspace_id, &[membership_id]).await?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::GroupMembersAdded)
            .target_membership(membership_id)
            .details(
                serde_json::json!({ "group_id": group_id, "membership_ids": [membership_id] }),
            ),
    )
    .await?;
    Ok(())
}
