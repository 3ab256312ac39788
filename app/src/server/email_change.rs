//! Changing one's email address: asking for it (a link mailed to the new
//! address, audited) and using the link (single use, [`LINK_HOURS`] hours,
//! the address still free, the old address told). `api::email_change`
//! parses, throttles, checks the current password and commits.

use sqlx::PgConnection;

use super::{
    audit::{self, AuditAction},
    db,
    mail::{link_origin, Letter},
    outbox::{self, MailKind, OutgoingMail},
    session::{self, RequestMeta},
    state::AppState,
    AccountCtx,
};
use crate::{
    domain::{invite::LinkToken, EmailAddress},
    error::AppError,
};

/// Hours a confirmation link works.
pub const LINK_HOURS: i64 = 24;

/// The account's current address, which `email` must not already be
/// (letter case aside): asking for one's own address is a field error.
pub async fn current_address_other_than(
    conn: &mut PgConnection,
    ctx: &AccountCtx,
    email: &EmailAddress,
) -> Result<String, AppError> {
    let current = sqlx::query!("SELECT email FROM accounts WHERE id = $1", ctx.account_id)
        .fetch_one(conn)
        .await?
        .email;
    if current.to_lowercase() == email.as_str().to_lowercase() {
        return Err(AppError::field(
            "new_email",
            "That is already your address.",
        ));
    }
    Ok(current)
}

/// Mails a confirmation link to `email` (only its hash stored) and audits
/// the request. Whether another account has the address is told only when
/// the link is used, by its mailbox's owner: asking tells nothing about
/// who has an account.
pub async fn request_change(
    tx: &mut PgConnection,
    state: &AppState,
    ctx: &AccountCtx,
    current: &str,
    email: &EmailAddress,
) -> Result<(), AppError> {
    let token = session::SessionToken::generate();
    sqlx::query!(
        "INSERT INTO email_changes (token_hash, account_id, new_email, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
        token.hash.as_slice(),
        ctx.account_id,
        email.as_str(),
        LINK_HOURS as i32
    )
    .execute(&mut *tx)
    .await?;
    let link = format!("{}/email-change/{}", link_origin(&state.auth), token.value);
    let (text, html) = Letter::new()
        .paragraph(&format!(
            "Someone (we hope you) asked to use {} for a Teamroom account instead of {}.",
            email.as_str(),
            current
        ))
        .button("Confirm my new address", &link)
        .paragraph(&format!("The link works for {LINK_HOURS} hours."))
        .closing("If this was not you, ignore this email.");
    outbox::enqueue(
        tx,
        &OutgoingMail {
            kind: MailKind::EmailChange,
            workspace_id: None,
            membership_id: None,
            recipient: email.as_str().to_owned(),
            subject: "Confirm your new email address for Teamroom".into(),
            body_text: text,
            body_html: html,
        },
    )
    .await?;
    ctx.record(
        tx,
        audit::Event::new(None, AuditAction::EmailChangeRequested)
            .target_account(ctx.account_id)
            .details(serde_json::json!({ "from": current, "to": email.as_str() })),
    )
    .await?;
    Ok(())
}

/// Uses a confirmation link: a link that is unknown, used or expired, or
/// an address another account took meanwhile, is a form error. Otherwise
/// the address changes (verified, in the search keys of every workspace),
/// the old address is told and the change audited as the account's own.
/// Answers the new address.
pub async fn confirm_change(
    tx: &mut PgConnection,
    meta: &RequestMeta,
    token: &LinkToken,
) -> Result<String, AppError> {
    let hash = session::hash_token(token.as_str());
    let found = sqlx::query!(
        r#"SELECT c.account_id, c.new_email, c.used_at, c.expires_at <= now() AS "expired!", a.email AS old_email
             FROM email_changes c JOIN accounts a ON a.id = c.account_id
            WHERE c.token_hash = $1 FOR UPDATE OF c, a"#,
        hash.as_slice()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::field("form", "This link is not valid. Ask for a new one from your profile."))?;
    if found.used_at.is_some() {
        return Err(AppError::field(
            "form",
            "This link was used already: your address is changed.",
        ));
    }
    if found.expired {
        return Err(AppError::field(
            "form",
            "This link has expired. Ask for a new one from your profile.",
        ));
    }
    let taken: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM accounts WHERE lower(email) = lower($1) AND id <> $2) AS "taken!""#,
        found.new_email,
        found.account_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if taken {
        return Err(AppError::field(
            "form",
            "Another account uses that address. Sign in to that account instead, or choose another address.",
        ));
    }
    sqlx::query!(
        "UPDATE email_changes SET used_at = now() WHERE token_hash = $1",
        hash.as_slice()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE accounts SET email = $2, email_verified_at = now() WHERE id = $1",
        found.account_id,
        found.new_email
    )
    .execute(&mut *tx)
    .await
    // Two confirmations racing for one address: the later one is told.
    .map_err(db::on_constraint(|constraint| {
        (constraint == "accounts_email_key")
            .then(|| AppError::field("form", "Another account uses that address."))
    }))?;
    // The address is in the search keys of every workspace they are in.
    db::refresh_account_keys(&mut *tx, found.account_id).await?;
    let (text, html) = Letter::new()
        .paragraph(&format!(
            "The email address of your Teamroom account is now {} instead of this one ({}).",
            found.new_email, found.old_email
        ))
        .closing(
            "If you did not do this, reply to this email or ask your workspace owner for help at once.",
        );
    outbox::enqueue(
        &mut *tx,
        &OutgoingMail {
            kind: MailKind::EmailChangedNotice,
            workspace_id: None,
            membership_id: None,
            recipient: found.old_email.clone(),
            subject: "Your Teamroom email address was changed".into(),
            body_text: text,
            body_html: html,
        },
    )
    .await?;
    audit::record(
        &mut *tx,
        &audit::Actor::new(found.account_id, None, meta),
        audit::Event::new(None, AuditAction::EmailChanged)
            .target_account(found.account_id)
            .details(serde_json::json!({ "before": { "email": found.old_email }, "after": { "email": found.new_email } })),
    )
    .await?;
    Ok(found.new_email)
}
