//! Passwords by mail and from the profile: the "Forgot password?" link
//! (only its hash stored, single use, 30 minutes), using it, and changing
//! one's own password. `api::password_reset` parses, throttles the
//! current-password check, hashes and signs the browser in.

use sqlx::PgConnection;

use super::{
    audit::{self, AuditAction},
    credentials,
    mail::{link_origin, Letter},
    notices,
    outbox::{self, MailKind, OutgoingMail},
    session::{self, RequestMeta},
    state::AppState,
    throttle, AccountCtx,
};
use crate::{
    api::password_reset::{RESET_LINK_DEAD, RESET_LINK_MINUTES},
    domain::EmailAddress,
    error::AppError,
};

/// Mails a reset link to the account using `email`, if there is one. The
/// limits count unknown addresses too, and the caller answers the same
/// either way, so neither tells whether the address has an account.
pub async fn request_reset(
    tx: &mut PgConnection,
    state: &AppState,
    meta: &RequestMeta,
    email: &EmailAddress,
) -> Result<(), AppError> {
    throttle::RESET_GLOBAL.hit(tx, "all").await?;
    throttle::RESET_IP
        .hit(tx, throttle::ip_key(meta.ip.as_deref()))
        .await?;
    throttle::RESET_EMAIL.hit(tx, &email.normalized()).await?;
    let Some(account) = sqlx::query!(
        "SELECT id, email FROM accounts WHERE lower(email) = $1",
        email.normalized()
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(());
    };
    let token = session::SessionToken::generate();
    sqlx::query!(
        "INSERT INTO password_resets (token_hash, account_id, expires_at)
         VALUES ($1, $2, now() + make_interval(mins => $3))",
        token.hash.as_slice(),
        account.id,
        RESET_LINK_MINUTES as i32
    )
    .execute(&mut *tx)
    .await?;
    let link = format!(
        "{}/reset-password/{}",
        link_origin(&state.auth),
        token.value
    );
    let (text, html) = Letter::new()
        .paragraph(&format!(
            "Someone (we hope you) asked to choose a new password for the Teamroom account {}.",
            account.email
        ))
        .button("Choose a new password", &link)
        .paragraph(&format!(
            "The link works once, for {RESET_LINK_MINUTES} minutes."
        ))
        .closing("If this was not you, ignore this email: your password stays as it is.");
    outbox::enqueue(
        tx,
        &OutgoingMail {
            kind: MailKind::PasswordReset,
            workspace_id: None,
            membership_id: None,
            recipient: account.email.clone(),
            subject: "Choose a new Teamroom password".into(),
            body_text: text,
            body_html: html,
        },
    )
    .await?;
    audit::record(
        tx,
        &audit::Actor::new(account.id, None, meta),
        audit::Event::new(None, AuditAction::PasswordResetRequested).target_account(account.id),
    )
    .await
}

/// Whether the reset link whose token hashes to `token_hash` still works
/// (unused, unexpired): its page says so before any typing, and a dead
/// link is refused before the costly hashing.
pub async fn reset_link_open(conn: &mut PgConnection, token_hash: &[u8]) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM password_resets
                           WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()) AS "open!""#,
        token_hash
    )
    .fetch_one(conn)
    .await?)
}

/// Uses a reset link: claims it under a row lock (two tabs cannot both
/// use it), sets the new password (`password_hash`, already hashed), ends
/// every session and every other link of the account, clears its sign-in
/// lock, audits and tells the person. Returns the account.
pub async fn use_reset_link(
    tx: &mut PgConnection,
    meta: &RequestMeta,
    token_hash: &[u8],
    password_hash: &str,
) -> Result<i64, AppError> {
    let found = sqlx::query!(
        r#"UPDATE password_resets SET used_at = now()
            WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
        RETURNING account_id, set_by_owner"#,
        token_hash
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::field("form", RESET_LINK_DEAD))?;
    let account_id = found.account_id;
    let account = sqlx::query!(
        r#"SELECT email, email_verified_at IS NULL AS "was_unverified!"
             FROM accounts WHERE id = $1 FOR UPDATE"#,
        account_id
    )
    .fetch_one(&mut *tx)
    .await?;
    // A mailed link came to this mailbox: the address is proven too. One
    // opened by signing in with an Owner-set password proves only that.
    sqlx::query!(
        "UPDATE accounts
            SET password_hash = $2, must_change_password = false,
                email_verified_at = CASE WHEN $3 THEN email_verified_at
                                         ELSE coalesce(email_verified_at, now()) END
          WHERE id = $1",
        account_id,
        password_hash,
        found.set_by_owner
    )
    .execute(&mut *tx)
    .await?;
    session::end_all(tx, account_id, None).await?;
    if account.was_unverified && !found.set_by_owner {
        // Whoever made the account without owning the mailbox loses the
        // browsers it knew and any second factor it set up, as when an
        // invitation link claims it.
        super::accounts::forget_previous_holder(tx, account_id).await?;
    }
    // Every other link of the account dies with this one.
    super::accounts::end_pending_links(tx, account_id).await?;
    credentials::clear_lock(tx, &account.email).await?;
    audit::record(
        tx,
        &audit::Actor::new(account_id, None, meta),
        audit::Event::new(None, AuditAction::PasswordReset).target_account(account_id),
    )
    .await?;
    notices::password_changed(tx, account_id, meta, true).await?;
    Ok(account_id)
}

/// Sets the caller's own new password (already hashed, the current one
/// already checked): links asked for with the old one die, other browsers
/// are signed out when asked; audited and told. Returns how many sessions
/// ended.
pub async fn set_own_password(
    tx: &mut PgConnection,
    ctx: &AccountCtx,
    password_hash: &str,
    end_other_sessions: bool,
) -> Result<u64, AppError> {
    sqlx::query!(
        "UPDATE accounts SET password_hash = $2 WHERE id = $1",
        ctx.account_id,
        password_hash
    )
    .execute(&mut *tx)
    .await?;
    super::accounts::end_pending_links(tx, ctx.account_id).await?;
    let ended = if end_other_sessions {
        session::end_all(tx, ctx.account_id, Some(&ctx.session.token_hash)).await?
    } else {
        0
    };
    ctx.record(
        tx,
        audit::Event::new(None, AuditAction::PasswordChanged)
            .target_account(ctx.account_id)
            .details(serde_json::json!({ "other_sessions_ended": ended })),
    )
    .await?;
    notices::password_changed(tx, ctx.account_id, &ctx.meta, false).await?;
    Ok(ended)
}
