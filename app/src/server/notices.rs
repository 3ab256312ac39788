//! Mail that tells a person what happened to their account (OWASP: notify
//! on security-relevant changes). Queued in the caller's transaction.

use sqlx::PgConnection;

use super::{
    mail::Letter,
    outbox::{self, MailKind, OutgoingMail},
    session::RequestMeta,
};
use crate::error::AppError;

/// Plain text and HTML of a short account mail: paragraphs, then a closing
/// line telling the person what to do if it was not them.
fn bodies(paragraphs: &[String], if_not_you: &str) -> (String, String) {
    paragraphs
        .iter()
        .fold(Letter::new(), |letter, paragraph| {
            letter.paragraph(paragraph)
        })
        .closing(if_not_you)
}

async fn account_email(conn: &mut PgConnection, account_id: i64) -> Result<String, AppError> {
    Ok(
        sqlx::query_scalar!("SELECT email FROM accounts WHERE id = $1", account_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Queues a notice to the account's own address.
async fn tell(
    conn: &mut PgConnection,
    account_id: i64,
    subject: &str,
    paragraphs: &[String],
) -> Result<(), AppError> {
    let recipient = account_email(conn, account_id).await?;
    let (body_text, body_html) = bodies(
        paragraphs,
        "If this was not you, reset your password from the sign-in page at once \
         and tell your workspace owner.",
    );
    outbox::enqueue(
        conn,
        &OutgoingMail {
            kind: MailKind::SecurityNotice,
            workspace_id: None,
            membership_id: None,
            recipient,
            subject: subject.to_owned(),
            body_text,
            body_html,
        },
    )
    .await?;
    Ok(())
}

fn from_where(meta: &RequestMeta) -> String {
    let browser = meta
        .user_agent
        .as_deref()
        .map(super::user_agent::describe)
        .unwrap_or_else(|| "an unknown browser".to_owned());
    match meta.ip.as_deref() {
        Some(ip) => format!("{browser}, from {ip}"),
        None => browser,
    }
}

/// A browser that never signed in to the account before just did.
pub async fn new_sign_in(
    conn: &mut PgConnection,
    account_id: i64,
    meta: &RequestMeta,
) -> Result<(), AppError> {
    tell(
        conn,
        account_id,
        "New sign-in to your Teamroom account",
        &[format!(
            "Your Teamroom account was just signed in to from a browser it had not seen before: {}.",
            from_where(meta)
        )],
    )
    .await
}

/// The password was changed (by the person, or through a reset link).
pub async fn password_changed(
    conn: &mut PgConnection,
    account_id: i64,
    meta: &RequestMeta,
    through_reset: bool,
) -> Result<(), AppError> {
    let how = if through_reset {
        "with a password reset link"
    } else {
        "from your profile"
    };
    tell(
        conn,
        account_id,
        "Your Teamroom password was changed",
        &[
            format!(
                "The password of your Teamroom account was changed {how} ({}).",
                from_where(meta)
            ),
            if through_reset {
                "Every session of the account was ended.".to_owned()
            } else {
                "If you did not choose to sign out your other browsers, they stay signed in: \
                 end them from your profile's Sessions list."
                    .to_owned()
            },
        ],
    )
    .await
}

/// Two-factor was turned on or off.
pub async fn two_factor_changed(
    conn: &mut PgConnection,
    account_id: i64,
    meta: &RequestMeta,
    on: bool,
) -> Result<(), AppError> {
    let (subject, what) = if on {
        (
            "Two-factor authentication is on",
            "Two-factor authentication was turned on for your Teamroom account",
        )
    } else {
        (
            "Two-factor authentication is off",
            "Two-factor authentication was turned off for your Teamroom account",
        )
    };
    tell(
        conn,
        account_id,
        subject,
        &[format!("{what} ({}).", from_where(meta))],
    )
    .await
}

/// A recovery code was used to sign in.
pub async fn recovery_code_used(
    conn: &mut PgConnection,
    account_id: i64,
    meta: &RequestMeta,
    left: i64,
) -> Result<(), AppError> {
    tell(
        conn,
        account_id,
        "A recovery code was used to sign in",
        &[
            format!(
                "A recovery code was just used to sign in to your Teamroom account ({}).",
                from_where(meta)
            ),
            format!(
                "{left} unused recovery codes are left. You can make new ones on your profile."
            ),
        ],
    )
    .await
}

/// The workspace Owner changed something of the account from the Accounts
/// tab (set its password, removed its two-factor): the person hears who
/// did it and what to do next.
pub async fn changed_by_owner(
    conn: &mut PgConnection,
    account_id: i64,
    owner_name: &str,
    subject: &str,
    what: &str,
    next_step: &str,
) -> Result<(), AppError> {
    tell(
        conn,
        account_id,
        subject,
        &[
            format!("{owner_name}, the Owner of your Teamroom workspace, {what}."),
            "Every browser signed in to your account was signed out.".to_owned(),
            next_step.to_owned(),
        ],
    )
    .await
}

/// An item in the person's bell that is not an invitation (kinds:
/// `account_notices_kind`), written in the caller's transaction.
pub async fn to_bell(
    conn: &mut PgConnection,
    account_id: i64,
    workspace_id: Option<i64>,
    kind: &str,
    body: &str,
) -> Result<(), AppError> {
    let body: String = body.chars().take(2000).collect();
    sqlx::query!(
        "INSERT INTO account_notices (account_id, workspace_id, kind, body) VALUES ($1, $2, $3, $4)",
        account_id,
        workspace_id,
        kind,
        body
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An Owner's view as the person ended: who, when and why, told by mail
/// (the bell item is written by the caller). Not a "was this you?" mail:
/// the person did not do it, the Owner of their workspace did.
pub async fn viewed_as_you(
    conn: &mut PgConnection,
    account_id: i64,
    subject: &str,
    paragraphs: &[String],
) -> Result<(), AppError> {
    let recipient = account_email(conn, account_id).await?;
    let (body_text, body_html) = bodies(
        paragraphs,
        "If you have questions about it, ask your workspace owner.",
    );
    outbox::enqueue(
        conn,
        &OutgoingMail {
            kind: MailKind::SecurityNotice,
            workspace_id: None,
            membership_id: None,
            recipient,
            subject: subject.to_owned(),
            body_text,
            body_html,
        },
    )
    .await?;
    Ok(())
}

/// The account's newest `limit` unread notices, for the bell.
pub async fn unread(
    conn: &mut PgConnection,
    account_id: i64,
    limit: i64,
) -> Result<Vec<crate::api::notices::BellNotice>, AppError> {
    Ok(sqlx::query_as!(
        crate::api::notices::BellNotice,
        "SELECT id, body, created_at FROM account_notices
          WHERE account_id = $1 AND read_at IS NULL
          ORDER BY id DESC
          LIMIT $2",
        account_id,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Marks the account's unread notice `notice_id` read; false when there is
/// no such notice of theirs.
pub async fn dismiss(
    conn: &mut PgConnection,
    account_id: i64,
    notice_id: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        "UPDATE account_notices SET read_at = now()
          WHERE account_id = $1 AND id = $2 AND read_at IS NULL",
        account_id,
        notice_id
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}
