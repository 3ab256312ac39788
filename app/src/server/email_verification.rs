//! The "confirm your address" link: made and mailed in the caller's
//! transaction (sign-up, a claimed account, a request for a new one), and
//! used (only by the account's own signed-in browser, joining the
//! workspaces invited at that address). `api::email_verification` guards,
//! throttles and commits.

use sqlx::PgConnection;

use super::{
    audit, joining,
    mail::Letter,
    outbox::{self, MailKind, OutgoingMail},
    session::{self, RequestMeta, SessionToken},
    AccountCtx,
};
use crate::{api::invitations::RESEND_COOLDOWN_SECS, domain::invite::LinkToken, error::AppError};

/// Queues the "confirm your address" mail for an account.
pub async fn queue_verification(
    conn: &mut PgConnection,
    account_id: i64,
    email: &str,
    origin: &str,
) -> Result<(), AppError> {
    let token = SessionToken::generate();
    sqlx::query!(
        "INSERT INTO email_verifications (token_hash, account_id, email, expires_at)
         VALUES ($1, $2, $3, now() + interval '3 days')",
        token.hash.as_slice(),
        account_id,
        email
    )
    .execute(&mut *conn)
    .await?;
    let link = format!("{origin}/verify-email/{}", token.value);
    let (text, html) = Letter::new()
        .paragraph(&format!(
            "Confirm that {email} is your address on Teamroom."
        ))
        .button("Confirm my email address", &link)
        .paragraph(
            "Invitations sent to this address are shown to you once it is confirmed. \
             The link works for 3 days.",
        )
        .closing("If you did not create a Teamroom account, ignore this email.");
    outbox::enqueue(
        conn,
        &OutgoingMail {
            kind: MailKind::VerifyEmail,
            workspace_id: None,
            membership_id: None,
            recipient: email.to_owned(),
            subject: "Confirm your email address for Teamroom".into(),
            body_text: text,
            body_html: html,
        },
    )
    .await?;
    Ok(())
}

/// A new link for the signed-in account's address: nothing to do once it
/// is confirmed; RateLimited within [`RESEND_COOLDOWN_SECS`] of the last
/// link.
pub async fn resend(tx: &mut PgConnection, ctx: &AccountCtx, origin: &str) -> Result<(), AppError> {
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
        let wait = RESEND_COOLDOWN_SECS - (chrono::Utc::now() - last).num_seconds();
        if wait > 0 {
            return Err(AppError::RateLimited {
                retry_after_secs: wait as u64,
            });
        }
    }
    queue_verification(tx, ctx.account_id, &account.email, origin).await
}

/// Uses a confirmation link. A link that is unknown, used, expired or for
/// an address the account no longer has is a form error, and so is any
/// browser but the account's own signed-in one (`signed_in`): the real
/// owner of an address someone signed up with must not hand that stranger
/// the address and its invitations. Otherwise the address is confirmed,
/// every open invitation to it is joined (the session moves to the last
/// workspace joined) and the confirmation is audited.
pub async fn verify(
    tx: &mut PgConnection,
    meta: &RequestMeta,
    token: &LinkToken,
    signed_in: Option<&AccountCtx>,
) -> Result<(), AppError> {
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
    super::accounts::mark_verified(tx, found.account_id).await?;
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
    let actor = audit::Actor::new(found.account_id, None, meta);
    let mut joined = None;
    for invitation in &open {
        if joining::join(
            &mut *tx,
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
        &mut *tx,
        &actor,
        audit::Event::new(None, audit::AuditAction::EmailVerified).target_account(found.account_id),
    )
    .await?;
    if let Some(workspace_id) = joined {
        session::set_active_workspace(&mut *tx, &ctx.session.token_hash, Some(workspace_id))
            .await?;
    }
    Ok(())
}
