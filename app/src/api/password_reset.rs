//! Passwords: "Forgot password?" (a mail with a single-use link, only its
//! hash stored, working for 30 minutes, then a new password; the request
//! answers the same whether or not the address has an account), and
//! changing one's password on the profile.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{invite::LinkToken, EmailAddress, Password},
    server::{
        app_state, audit, credentials, db,
        mail::{link_origin, Letter},
        notices,
        outbox::{self, MailKind, OutgoingMail},
        password, session, throttle,
    },
};

/// Minutes a reset link works.
pub const RESET_LINK_MINUTES: i64 = 30;

/// What the "check your mail" message says, whatever the address.
pub const RESET_SENT: &str = "If an account uses that address, a link to choose a new password is on its way. It works for 30 minutes.";

#[server(prefix = "/api", endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    let email = EmailAddress::parse(&email).map_err(|message| AppError::field("email", message))?;
    let state = app_state()?;
    let (meta, _) = super::request_meta(&state)?;
    let mut tx = state.pool.begin().await?;
    throttle::RESET_GLOBAL.hit(&mut tx, "all").await?;
    throttle::RESET_IP
        .hit(&mut tx, throttle::ip_key(meta.ip.as_deref()))
        .await?;
    // Counted for unknown addresses too, so the limit tells nothing.
    throttle::RESET_EMAIL
        .hit(&mut tx, &email.normalized())
        .await?;
    let account = sqlx::query!(
        "SELECT id, email FROM accounts WHERE lower(email) = $1",
        email.normalized()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(account) = account {
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
            &mut tx,
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
            &mut tx,
            &audit::Actor::new(account.id, None, &meta),
            audit::Event::new(None, audit::AuditAction::PasswordResetRequested)
                .target_account(account.id),
        )
        .await?;
    }
    tx.commit().await?;
    // A form posted without JavaScript lands on the "check your mail" view.
    leptos_axum::redirect("/forgot-password?sent");
    Ok(())
}

/// Whether a reset link still works, so its page can say so before any typing.
#[server(prefix = "/api", endpoint = "password_reset_state")]
pub async fn password_reset_state(token: String) -> Result<bool, AppError> {
    let Ok(token) = LinkToken::parse(&token) else {
        return Ok(false);
    };
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM password_resets
                           WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()) AS "open!""#,
        session::hash_token(token.as_str())
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The message for a link that cannot be used (any reason: used, expired,
/// unknown), with what to do next.
pub const RESET_LINK_DEAD: &str =
    "This link has expired or was already used. Ask for a new one from the sign-in page.";

/// Sets the new password from a reset link. Every session of the account
/// ends, its sign-in lock is cleared, the person is told by mail, and this
/// browser is signed in.
#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let token = LinkToken::parse(&token).map_err(|_| AppError::field("form", RESET_LINK_DEAD))?;
    let new_password =
        Password::parse(&password).map_err(|message| AppError::field("password", message))?;
    let state = app_state()?;
    let (meta, headers) = super::request_meta(&state)?;
    let hash_of_token = session::hash_token(token.as_str());
    // Cheap refusal of a dead link before the hashing.
    let open = {
        let mut conn = state.pool.acquire().await?;
        sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM password_resets
                               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()) AS "open!""#,
            hash_of_token.as_slice()
        )
        .fetch_one(&mut *conn)
        .await?
    };
    if !open {
        return Err(AppError::field("form", RESET_LINK_DEAD));
    }
    let hash = password::hash(&state, &new_password).await?;

    let mut tx = state.pool.begin().await?;
    // Claimed under a row lock: two tabs cannot both use the link.
    let found = sqlx::query!(
        r#"UPDATE password_resets SET used_at = now()
            WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
        RETURNING account_id, set_by_owner"#,
        hash_of_token.as_slice()
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
        hash,
        found.set_by_owner
    )
    .execute(&mut *tx)
    .await?;
    session::end_all(&mut tx, account_id, None).await?;
    if account.was_unverified && !found.set_by_owner {
        // Whoever made the account without owning the mailbox loses the
        // browsers it knew and any second factor it set up, as when an
        // invitation link claims it.
        crate::server::accounts::forget_previous_holder(&mut tx, account_id).await?;
    }
    // Every other link of the account dies with this one.
    crate::server::accounts::end_pending_links(&mut tx, account_id).await?;
    credentials::clear_lock(&mut tx, &account.email).await?;
    audit::record(
        &mut tx,
        &audit::Actor::new(account_id, None, &meta),
        audit::Event::new(None, audit::AuditAction::PasswordReset).target_account(account_id),
    )
    .await?;
    notices::password_changed(&mut tx, account_id, &meta, true).await?;
    let workspaces = db::active_workspaces(&mut tx, account_id).await?;
    let workspace_id = workspaces.first().map(|w| w.id);
    // A reset proves the mailbox, not the second factor: with two-factor on,
    // the code is still asked.
    let landing =
        super::after_password(&mut tx, account_id, workspace_id, &state, &meta, &headers).await?;
    tx.commit().await?;
    super::land(landing)
}

/// Changes one's own password from the profile: the current one first
/// (through the sign-in throttle), then the new one. `end_other_sessions`
/// (offered, on by default) signs every other browser out.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    #[server(default)] end_other_sessions: bool,
) -> Result<u64, AppError> {
    let ctx = crate::server::require_account().await?;
    let new_password = Password::parse(&new_password)
        .map_err(|message| AppError::field("new_password", message))?;
    if current_password.is_empty() {
        return Err(AppError::field(
            "current_password",
            "Enter your current password.",
        ));
    }
    let state = app_state()?;
    let (_, headers) = super::request_meta(&state)?;
    if !credentials::check_own(
        &state,
        ctx.account_id,
        &ctx.meta,
        &headers,
        &current_password,
    )
    .await?
    {
        return Err(AppError::field(
            "current_password",
            "That is not your current password.",
        ));
    }
    let hash = password::hash(&state, &new_password).await?;
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "UPDATE accounts SET password_hash = $2 WHERE id = $1",
        ctx.account_id,
        hash
    )
    .execute(&mut *tx)
    .await?;
    // Links asked for with the old password (reset, email change) die.
    crate::server::accounts::end_pending_links(&mut tx, ctx.account_id).await?;
    let ended = if end_other_sessions {
        session::end_all(&mut tx, ctx.account_id, Some(&ctx.session.token_hash)).await?
    } else {
        0
    };
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(None, audit::AuditAction::PasswordChanged)
            .target_account(ctx.account_id)
            .details(serde_json::json!({ "other_sessions_ended": ended })),
    )
    .await?;
    notices::password_changed(&mut tx, ctx.account_id, &ctx.meta, false).await?;
    tx.commit().await?;
    Ok(ended)
}
