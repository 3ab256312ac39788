//! The bell's rules: which open invitations a signed-in account sees (only
//! at a confirmed address, never while an Owner views as them) and
//! answering one in place.

use chrono::Utc;

use super::{audit, guard::AccountCtx, joining, session};
use crate::{
    api::bell::{Bell, BellInvitation},
    error::AppError,
};

/// The bell of `ctx`'s account: its address, whether it is confirmed, and
/// the newest 50 open invitations to workspaces it is not in yet.
pub async fn of(pool: &sqlx::PgPool, ctx: &AccountCtx) -> Result<Bell, AppError> {
    let mut conn = pool.acquire().await?;
    let account = sqlx::query!(
        "SELECT email, email_verified_at IS NOT NULL AS \"verified!\" FROM accounts WHERE id = $1",
        ctx.account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    // An Owner viewing as the person does not see (or answer) invitations
    // to other workspaces.
    let invitations = if account.verified && ctx.impersonator_account_id.is_none() {
        sqlx::query_as!(
            BellInvitation,
            r#"SELECT i.workspace_id, i.id AS invitation_id, w.name AS workspace_name,
                      a.display_name AS "inviter_name?", i.expires_at
                 FROM invitations i
                 JOIN workspaces w ON w.id = i.workspace_id
                 JOIN memberships m ON m.workspace_id = i.workspace_id AND m.id = i.membership_id
                 LEFT JOIN accounts a ON a.id = i.invited_by_account_id
                WHERE lower(i.email) = lower($1) AND i.state = 'open' AND i.expires_at > now()
                  AND m.status = 'pending'
                  AND NOT EXISTS (SELECT 1 FROM memberships mine
                                   WHERE mine.workspace_id = i.workspace_id AND mine.account_id = $2)
                ORDER BY i.created_at DESC
                LIMIT 50"#,
            account.email,
            ctx.account_id
        )
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    Ok(Bell {
        // (nor is offered the person's confirmation mail)
        verified: account.verified || ctx.impersonator_account_id.is_some(),
        email: account.email,
        invitations,
    })
}

/// Accepts (joining the workspace and making it the session's active one)
/// or declines invitation `invitation_id` of `workspace_id`, sent to the
/// account's confirmed address. Anyone else's invitation is `NotFound`.
pub async fn answer(
    pool: &sqlx::PgPool,
    ctx: &AccountCtx,
    workspace_id: i64,
    invitation_id: i64,
    accept: bool,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query!(
        r#"SELECT i.membership_id, i.state, i.expires_at
             FROM invitations i
             JOIN accounts a ON a.id = $3 AND a.email_verified_at IS NOT NULL
                            AND lower(a.email) = lower(i.email)
            WHERE i.workspace_id = $1 AND i.id = $2
              FOR UPDATE OF i"#,
        workspace_id,
        invitation_id,
        ctx.account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let membership_id = match found.membership_id {
        Some(id) if found.state == "open" && found.expires_at > Utc::now() => id,
        _ => {
            return Err(AppError::Conflict(
                "This invitation is no longer open.".into(),
            ))
        }
    };
    let actor = ctx.actor();
    if accept {
        joining::join(
            &mut tx,
            workspace_id,
            membership_id,
            Some(invitation_id),
            ctx.account_id,
            &actor,
        )
        .await?;
        session::set_active_workspace(&mut tx, &ctx.session.token_hash, Some(workspace_id)).await?;
    } else {
        joining::end_invitation(&mut tx, workspace_id, invitation_id, "declined").await?;
        audit::record(
            &mut tx,
            &actor,
            audit::Event::new(Some(workspace_id), audit::AuditAction::InvitationDeclined)
                .target_account(ctx.account_id)
                .target_membership(membership_id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
