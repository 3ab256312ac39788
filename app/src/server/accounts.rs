//! Rules about whole accounts that no single page owns.

use sqlx::PgConnection;

use super::state::AuthSettings;
use crate::error::AppError;

/// Removes accounts whose address was never confirmed and that show no
/// activity: older than `unconfirmed_account_ttl`, no session used within
/// it, member of no workspace but the ones they own, and those have no
/// other member. Their own workspaces go with them. This is what keeps a
/// stranger from holding an address they typed for ever. Returns how many.
pub async fn purge_unconfirmed(
    conn: &mut PgConnection,
    settings: &AuthSettings,
) -> Result<u64, AppError> {
    let ttl_secs = settings.unconfirmed_account_ttl.num_seconds() as f64;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let doomed: Vec<i64> = sqlx::query_scalar!(
        "SELECT a.id FROM accounts a
          WHERE a.email_verified_at IS NULL
            AND a.created_at < now() - make_interval(secs => $1)
            AND NOT EXISTS (SELECT 1 FROM sessions s
                             WHERE s.account_id = a.id
                               AND s.last_seen_at > now() - make_interval(secs => $1))
            AND NOT EXISTS (SELECT 1 FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
                             WHERE m.account_id = a.id AND w.owner_account_id <> a.id)
            AND NOT EXISTS (SELECT 1 FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
                             WHERE w.owner_account_id = a.id AND m.account_id IS DISTINCT FROM a.id)
          ORDER BY a.id
          LIMIT 1000
            FOR UPDATE OF a SKIP LOCKED",
        ttl_secs
    )
    .fetch_all(&mut *tx)
    .await?;
    if doomed.is_empty() {
        return Ok(0);
    }
    sqlx::query!(
        "DELETE FROM workspaces WHERE owner_account_id = ANY($1)",
        &doomed
    )
    .execute(&mut *tx)
    .await?;
    let removed = sqlx::query!("DELETE FROM accounts WHERE id = ANY($1)", &doomed)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(removed)
}

/// Ends what was asked for with an account's old password: pending email
/// changes and reset links, and half-finished two-factor sign-ins. Called
/// whenever the password changes hands or is replaced, so none of them
/// outlives it (an email change link held back by whoever knew the old
/// password would otherwise take the account over later).
pub async fn end_pending_links(conn: &mut PgConnection, account_id: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE email_changes SET used_at = now() WHERE account_id = $1 AND used_at IS NULL",
        account_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE password_resets SET used_at = now() WHERE account_id = $1 AND used_at IS NULL",
        account_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM two_factor_challenges WHERE account_id = $1",
        account_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An unconfirmed account taken over by the owner of its mailbox (an
/// invitation link or a reset link): whatever the previous holder set up
/// goes with them, the browsers it made known, its second factor, its
/// confirmation links, along with every session.
pub async fn forget_previous_holder(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<(), AppError> {
    super::session::end_all(conn, account_id, None).await?;
    sqlx::query!(
        "DELETE FROM known_devices WHERE account_id = $1",
        account_id
    )
    .execute(&mut *conn)
    .await?;
    super::two_factor::remove(conn, account_id).await?;
    sqlx::query!(
        "UPDATE email_verifications SET used_at = now() WHERE account_id = $1 AND used_at IS NULL",
        account_id
    )
    .execute(&mut *conn)
    .await?;
    end_pending_links(conn, account_id).await
}

/// How long the page for choosing one's own password stays open after
/// signing in with a password the Owner set.
pub const FORCED_CHANGE_MINUTES: i32 = 15;

/// When the account must choose a new password (the Owner set it), a
/// single-use reset token for the page where they do; `None` otherwise.
pub async fn forced_password_change(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Option<String>, AppError> {
    let must: bool = sqlx::query_scalar!(
        "SELECT must_change_password FROM accounts WHERE id = $1",
        account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if !must {
        return Ok(None);
    }
    let token = super::session::SessionToken::generate();
    sqlx::query!(
        "INSERT INTO password_resets (token_hash, account_id, expires_at, set_by_owner)
         VALUES ($1, $2, now() + make_interval(mins => $3), true)",
        token.hash.as_slice(),
        account_id,
        FORCED_CHANGE_MINUTES
    )
    .execute(conn)
    .await?;
    Ok(Some(token.value))
}

/// Hands an unconfirmed account to the holder of an invitation link to its
/// address: new name and password; the old password, every session, every
/// known browser, any second factor and every pending link of the account
/// end, in the caller's transaction.
pub async fn claim(
    conn: &mut PgConnection,
    account_id: i64,
    name: &crate::domain::DisplayName,
    hash: &str,
    meta: &super::session::RequestMeta,
) -> Result<(), AppError> {
    let claimed = sqlx::query!(
        "UPDATE accounts SET display_name = $2, password_hash = $3
          WHERE id = $1 AND email_verified_at IS NULL",
        account_id,
        name.as_str(),
        hash
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if claimed == 0 {
        // Confirmed meanwhile: its owner signs in instead.
        return Err(AppError::Conflict(
            "This address was just confirmed by its account. Sign in to accept.".into(),
        ));
    }
    forget_previous_holder(conn, account_id).await?;
    super::db::refresh_account_keys(conn, account_id).await?;
    super::audit::record(
        conn,
        &super::audit::Actor::new(account_id, None, meta),
        super::audit::Event::new(None, super::audit::AuditAction::AccountClaimed)
            .target_account(account_id),
    )
    .await?;
    Ok(())
}

/// Notes that the account's address is proven (a link mailed to it was
/// opened); the first proof's time stays.
pub async fn mark_verified(conn: &mut PgConnection, account_id: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE accounts SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        account_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
