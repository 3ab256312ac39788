//! Bulk actions on the Team list, one batch per transaction: every member
//! is checked against the member card's own rules in a savepoint, and
//! whoever a rule refuses is reported with the reason instead of failing
//! the batch. `api::bulk` guards (again in the transaction), picks the
//! batch's ids and commits.

use sqlx::PgConnection;

use super::{
    directory,
    groups::{put_in_group, require_group, take_out_of_group},
    lifecycle::{apply_role, apply_status, Change},
    workspace, Ctx,
};
use crate::{
    api::bulk::{BulkOp, BulkStep, Skipped},
    domain::directory::DirectoryQuery,
    error::AppError,
};

/// One page of the members matching a Team-page view, as the caller may
/// see it (its scope), continuing `after`: the ids and where the next page
/// starts (None when finished).
pub async fn matching_page(
    conn: &mut PgConnection,
    ctx: &Ctx,
    query: &DirectoryQuery,
    after: Option<&str>,
) -> Result<(Vec<i64>, Option<String>), AppError> {
    let scope = directory::Scope::of(ctx);
    let listing = directory::Listing::prepare(&mut *conn, ctx.workspace_id, scope, query).await?;
    let page = directory::page_ids(conn, &listing, after).await?;
    Ok((page.ids, page.next))
}

/// Applies `op` to each member of `ids` in the caller's transaction (the
/// workspace locked, the group one of the workspace's). Each member in a
/// savepoint: a Conflict, NotFound or Forbidden leaves nothing half-done
/// for them and is reported in `skipped` with their name; any other error
/// fails the batch.
pub async fn apply(
    tx: &mut PgConnection,
    ctx: &Ctx,
    op: BulkOp,
    ids: &[i64],
) -> Result<BulkStep, AppError> {
    let workspace = workspace::lock(&mut *tx, ctx.workspace_id).await?;
    if let BulkOp::AddToGroup(group) | BulkOp::RemoveFromGroup(group) = op {
        require_group(&mut *tx, ctx.workspace_id, group).await?;
    }
    let mut step = BulkStep::default();
    for &id in ids {
        // Each member in a savepoint: a refusal leaves nothing half-done
        // and the rest of the batch goes on.
        sqlx::query("SAVEPOINT bulk_member")
            .execute(&mut *tx)
            .await?;
        let result = match op {
            BulkOp::Deactivate => apply_status(tx, ctx, &workspace, id, Change::Deactivate).await,
            BulkOp::Reactivate => apply_status(tx, ctx, &workspace, id, Change::Reactivate).await,
            BulkOp::GiveRole(role) => apply_role(tx, ctx, id, role, true).await,
            BulkOp::TakeRole(role) => apply_role(tx, ctx, id, role, false).await,
            BulkOp::AddToGroup(group) => group_membership(tx, ctx, id, group, true).await,
            BulkOp::RemoveFromGroup(group) => group_membership(tx, ctx, id, group, false).await,
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
    Ok(step)
}

/// Puts one member in a group or takes them out; NotFound outside the
/// workspace, a Conflict saying so when there is nothing to do.
async fn group_membership(
    tx: &mut PgConnection,
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
        return if take_out_of_group(&mut *tx, ctx, group_id, membership_id).await? {
            Ok(())
        } else {
            Err(AppError::Conflict("Not in the group.".into()))
        };
    }
    if put_in_group(&mut *tx, ctx, group_id, &[membership_id])
        .await?
        .is_empty()
    {
        return Err(AppError::Conflict("Already in the group.".into()));
    }
    Ok(())
}
