//! The "confirm your address" link: made and mailed in the caller's
//! transaction (sign-up, a claimed account, a request for a new one).

use sqlx::PgConnection;

use super::{
    mail::Letter,
    outbox::{self, MailKind, OutgoingMail},
    session::SessionToken,
};
use crate::error::AppError;

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
