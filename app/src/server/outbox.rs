//! Mail to send. Rows are written in the same transaction as the change that
//! causes them (an invitation, a sign-up) and delivered by the server's mail
//! worker over SMTP, so a message is never lost to a crash or an SMTP outage.

use sqlx::PgConnection;

use crate::error::AppError;

/// The NOTIFY channel that wakes mail workers when a message is queued.
pub const OUTBOX_CHANNEL: &str = "teamroom_outbox";

/// What the mail is for; stored in `outbox.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Invitation,
    VerifyEmail,
    EmailChange,
    EmailChangedNotice,
    PasswordReset,
    /// "Your password changed", "new sign-in"...: told to the account's owner.
    SecurityNotice,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::VerifyEmail => "verify_email",
            Self::EmailChange => "email_change",
            Self::EmailChangedNotice => "email_changed_notice",
            Self::PasswordReset => "password_reset",
            Self::SecurityNotice => "security_notice",
        }
    }
}

/// A message ready to queue: plain text and HTML bodies of the same content.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub kind: MailKind,
    pub workspace_id: Option<i64>,
    /// The pending member the message is about (cancelled on resend/revoke).
    pub membership_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// Queues a message inside the caller's transaction. Workers are woken by a
/// NOTIFY, which PostgreSQL delivers only when that transaction commits.
pub async fn enqueue(conn: &mut PgConnection, mail: &OutgoingMail) -> Result<i64, AppError> {
    let id = sqlx::query_scalar!(
        "INSERT INTO outbox (kind, workspace_id, membership_id, recipient, subject, body_text, body_html)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        mail.kind.as_str(),
        mail.workspace_id,
        mail.membership_id,
        mail.recipient,
        mail.subject,
        mail.body_text,
        mail.body_html,
    )
    .fetch_one(&mut *conn)
    .await?;
    wake_workers(conn).await?;
    Ok(id)
}

/// Tells mail workers (in any server process) that there is work.
pub async fn wake_workers(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(OUTBOX_CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

/// Cancels messages about a pending member that have not left yet: after a
/// resend their link is dead, after a revoke the invitation is gone.
pub async fn cancel_for_membership(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<u64, AppError> {
    Ok(sqlx::query!(
        "UPDATE outbox SET cancelled_at = now(), body_text = NULL, body_html = NULL
          WHERE workspace_id = $1 AND membership_id = $2
            AND sent_at IS NULL AND cancelled_at IS NULL",
        workspace_id,
        membership_id
    )
    .execute(conn)
    .await?
    .rows_affected())
}
