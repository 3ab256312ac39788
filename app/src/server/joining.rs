//! Using an invitation link: finding the invitation behind a link (locked,
//! so two tabs cannot both use it), joining the workspace, and closing the
//! invitation. The accept page and the bell share these.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    audit::{self, Actor},
    db,
    session::hash_token,
};
use crate::error::AppError;

/// Makes a pending membership active for an account, in the caller's
/// transaction; ends the invitation. Returns false when the account is
/// already a member there (the pending row is then removed instead).
pub async fn join(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
    invitation_id: Option<i64>,
    account_id: i64,
    actor: &Actor,
) -> Result<bool, AppError> {
    if let Some(invitation_id) = invitation_id {
        end_invitation(conn, workspace_id, invitation_id, "accepted").await?;
    }
    let already: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM memberships WHERE workspace_id = $1 AND account_id = $2) AS "e!""#,
        workspace_id,
        account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if already {
        sqlx::query!(
            "DELETE FROM memberships WHERE workspace_id = $1 AND id = $2 AND status = 'pending'",
            workspace_id,
            membership_id
        )
        .execute(&mut *conn)
        .await?;
        return Ok(false);
    }
    let updated = sqlx::query!(
        "UPDATE memberships
            SET account_id = $3, status = 'active', invited_email = NULL, display_name = NULL,
                last_active_at = now()
          WHERE workspace_id = $1 AND id = $2 AND status = 'pending' AND kind = 'full'",
        workspace_id,
        membership_id,
        account_id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::Conflict(
            "This invitation is no longer open. Ask for a new one.".into(),
        ));
    }
    db::refresh_member_keys(conn, workspace_id, &[membership_id]).await?;
    audit::record(
        conn,
        actor,
        audit::Event::new(Some(workspace_id), audit::AuditAction::InvitationAccepted)
            .target_account(account_id)
            .target_membership(membership_id),
    )
    .await?;
    Ok(true)
}

/// Closes one invitation (`accepted` or `declined`): its link stops working.
pub async fn end_invitation(
    conn: &mut PgConnection,
    workspace_id: i64,
    invitation_id: i64,
    state: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE invitations SET state = $3, ended_at = now() WHERE workspace_id = $1 AND id = $2",
        workspace_id,
        invitation_id,
        state
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An invitation looked up by its link, locked for the transaction.
#[derive(Debug, Clone)]
pub struct LinkedInvitation {
    pub workspace_id: i64,
    pub id: i64,
    pub membership_id: Option<i64>,
    pub email: String,
    pub state: String,
    pub expires_at: DateTime<Utc>,
    pub workspace_name: String,
    pub inviter_name: Option<String>,
    pub inviter_email: Option<String>,
}

/// The invitation behind a link, locked until the caller's transaction ends
/// (outside one, the lock is released at once), so two tabs cannot both
/// use the same link.
pub async fn by_token(
    conn: &mut PgConnection,
    token: &str,
) -> Result<Option<LinkedInvitation>, AppError> {
    let hash = hash_token(token);
    Ok(sqlx::query_as!(
        LinkedInvitation,
        "SELECT i.workspace_id, i.id, i.membership_id, i.email, i.state, i.expires_at,
                w.name AS workspace_name, a.display_name AS \"inviter_name?\", a.email AS \"inviter_email?\"
           FROM invitations i
           JOIN workspaces w ON w.id = i.workspace_id
           LEFT JOIN accounts a ON a.id = i.invited_by_account_id
          WHERE i.token_hash = $1
            FOR UPDATE OF i",
        hash.as_slice()
    )
    .fetch_optional(conn)
    .await?)
}
