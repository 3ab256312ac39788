//! Confirming an account's address: the link mailed at sign-up (sent
//! again on request) and the page's button that confirms it.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::invite::LinkToken,
    server::{app_state, audit, email_verification, joining, require_account, session, throttle},
};

/// Mails a new confirmation link to the signed-in account's address.
#[server(prefix = "/api", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let origin = crate::server::mail::link_origin(&state.auth);
    let mut tx = state.pool.begin().await?;
    throttle::RESEND_VERIFICATION_IP
        .hit(&mut tx, throttle::ip_key(ctx.meta.ip.as_deref()))
        .await?;
    let account = sqlx::query!(
        r#"SELECT email, email_verified_at IS NOT NULL AS "verified!",
                  (SELECT max(created_at) FROM email_verifications v WHERE v.account_id = a.id) AS last_sent
             FROM accounts a WHERE id = $1 FOR UPDATE"#,
        ctx.account_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if account.verified {
        return Ok(());
    }
    if let Some(last) = account.last_sent {
        let wait =
            super::invitations::RESEND_COOLDOWN_SECS - (chrono::Utc::now() - last).num_seconds();
        if wait > 0 {
            return Err(AppError::RateLimited {
                retry_after_secs: wait as u64,
            });
        }
    }
    email_verification::queue_verification(&mut tx, ctx.account_id, &account.email, &origin)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The confirmation link's button (a POST, so mail scanners that fetch
/// links do not confirm by accident). Joins every workspace whose open
/// invitation went to this address.
#[server(prefix = "/api", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    let token = LinkToken::parse(&token).map_err(|m| AppError::field("form", m))?;
    let state = app_state()?;
    let (meta, _) = super::request_meta(&state)?;
    let signed_in = require_account().await.ok();
    let mut tx = state.pool.begin().await?;
    let found = sqlx::query!(
        "SELECT v.account_id, v.email, v.used_at, v.expires_at, a.email AS account_email
           FROM email_verifications v JOIN accounts a ON a.id = v.account_id
          WHERE v.token_hash = $1 FOR UPDATE OF v",
        session::hash_token(token.as_str())
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| {
        AppError::field(
            "form",
            "This confirmation link is not valid. Sign in and ask for a new one from the bell menu.",
        )
    })?;
    if found.used_at.is_some() {
        return Err(AppError::field(
            "form",
            "This address is already confirmed. Sign in to continue.",
        ));
    }
    if found.expires_at <= chrono::Utc::now()
        || found.email.to_lowercase() != found.account_email.to_lowercase()
    {
        return Err(AppError::field(
            "form",
            "This confirmation link has expired. Sign in and ask for a new one from the bell menu.",
        ));
    }
    // Only the account's own signed-in session may confirm: a click made
    // anywhere else (the real owner of an address someone signed up with)
    // must not hand that stranger the address and its invitations.
    let Some(ctx) = signed_in.filter(|ctx| ctx.account_id == found.account_id) else {
        return Err(AppError::field(
            "form",
            format!(
                "Sign in as {} in this browser, then open the link again. If you never made a \
                 Teamroom account with this address, ignore this email: nothing was changed.",
                found.email
            ),
        ));
    };
    sqlx::query!(
        "UPDATE email_verifications SET used_at = now() WHERE token_hash = $1",
        session::hash_token(token.as_str())
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE accounts SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        found.account_id
    )
    .execute(&mut *tx)
    .await?;
    // Signing up with an invited address joins the invited workspaces.
    let open = sqlx::query!(
        "SELECT i.workspace_id, i.id, i.membership_id AS \"membership_id!\"
           FROM invitations i
           JOIN memberships m ON m.workspace_id = i.workspace_id AND m.id = i.membership_id
          WHERE lower(i.email) = lower($1) AND i.state = 'open' AND i.expires_at > now()
            AND m.status = 'pending'
            FOR UPDATE OF i",
        found.email
    )
    .fetch_all(&mut *tx)
    .await?;
    let actor = audit::Actor::new(found.account_id, None, &meta);
    let mut joined = None;
    for invitation in &open {
        if joining::join(
            &mut tx,
            invitation.workspace_id,
            invitation.membership_id,
            Some(invitation.id),
            found.account_id,
            &actor,
        )
        .await?
        {
            joined = Some(invitation.workspace_id);
        }
    }
    audit::record(
        &mut tx,
        &actor,
        audit::Event::new(None, audit::AuditAction::EmailVerified).target_account(found.account_id),
    )
    .await?;
    if let Some(workspace_id) = joined {
        session::set_active_workspace(&mut tx, &ctx.session.token_hash, Some(workspace_id)).await?;
    }
    tx.commit().await?;
    leptos_axum::redirect("/team");
    Ok(())
}
