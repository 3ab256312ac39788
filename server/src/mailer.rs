//! The mail worker: delivers the outbox over SMTP with lettre.
//!
//! A due row is claimed with `FOR UPDATE SKIP LOCKED`, held while it is
//! sent, then marked sent in the same transaction, so any number of workers
//! (in one process or many) can run side by side without sending a message
//! twice. One message per transaction: a crash or a deploy in the middle of
//! a burst can resend at most the one message that was in flight (SMTP and
//! PostgreSQL cannot commit together), never a whole batch.
//!
//! A failure is retried with exponential backoff (with jitter), forever:
//! nothing is dropped because the SMTP server was down. Two kinds of
//! message are given up on: one whose recipient is not an address at all,
//! and one the SMTP server refused with a permanent reply about the address
//! itself (a 5xx with an enhanced status `5.1.x`, e.g. `550 5.1.1 mailbox
//! unavailable`): retrying cannot make that mailbox exist, and the reason
//! stays in `last_error`, which the Team page shows on the pending member's
//! row so an admin can correct the address. Any other refusal (4xx, or a
//! 5xx about policy, authentication or the relay, which a fixed
//! configuration cures) is retried like an outage. When the
//! SMTP server cannot be reached, the worker stops the pass after the first
//! failure and waits `poll_every`, so an outage costs one connection attempt
//! per poll rather than one per queued message. Workers wake on the outbox
//! NOTIFY, when the next retry falls due, or every `poll_every`.

use std::time::Duration;

use app::server::outbox::OUTBOX_CHANNEL;
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use sqlx::{postgres::PgListener, PgPool};

/// Mail settings, from `SMTP_URL`, `MAIL_FROM`, `MAIL_RETRY_BASE_SECONDS`
/// and `MAIL_RETRY_MAX_SECONDS` (see [`crate::Config::from_env`]).
#[derive(Debug, Clone)]
pub struct MailerConfig {
    /// lettre's URL format: `smtp://host:port` (plain, for a local relay),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://user:pass@host` (TLS on connect, port 465). None: the worker
    /// does not start and mail stays queued.
    pub smtp_url: Option<String>,
    /// The From header, e.g. `Teamroom <no-reply@example.com>`.
    pub from: String,
    /// Delay before the first retry; doubled on each further failure.
    pub retry_base: Duration,
    /// Longest delay between two attempts.
    pub retry_max: Duration,
    /// Longest sleep between two looks at the outbox (NOTIFY can be missed
    /// while the listening connection is being re-established).
    pub poll_every: Duration,
}

impl Default for MailerConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Teamroom <no-reply@teamroom.localhost>".into(),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(900),
            poll_every: Duration::from_secs(2),
        }
    }
}

/// Per SMTP operation (connect, each command, the data).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    recipient: String,
    subject: String,
    body_text: Option<String>,
    body_html: Option<String>,
    attempts: i32,
}

/// The delay before attempt `attempts + 1`: base x 2^attempts, capped. The
/// database shortens it by up to a fifth at random, so messages that failed
/// together do not all come back in the same second.
pub fn backoff(config: &MailerConfig, attempts: i32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
    config
        .retry_base
        .saturating_mul(factor)
        .min(config.retry_max)
}

enum Failure {
    /// Will not work however often it is tried (not an address, or a
    /// mailbox the receiving server says does not exist).
    Permanent(String),
    /// The SMTP server answered this message with an error (4xx or 5xx).
    Refused(String),
    /// The SMTP server could not be reached or did not answer in time: the
    /// next message would fail the same way.
    Unavailable(String),
}

/// What one step of the worker did.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Nothing due that another worker is not already holding.
    NothingDue,
    Delivered,
    /// Retried later or given up; either way, go on with the next message.
    Failed,
    /// Stop this pass: the SMTP server is not there.
    Unavailable,
}

fn build(from: &Mailbox, row: &Due) -> Result<Message, Failure> {
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|e| Failure::Permanent(format!("invalid address: {e}")))?;
    let text = row.body_text.clone().unwrap_or_default();
    let html = row.body_html.clone().unwrap_or_default();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|e| Failure::Permanent(format!("message could not be built: {e}")))
}

/// The SMTP reply as a person reads it: `550 5.1.1 mailbox unavailable`
/// (lettre's own text is `permanent error (550): ...`).
fn smtp_reason(error: &lettre::transport::smtp::Error) -> String {
    match (error.status(), std::error::Error::source(error)) {
        (Some(code), Some(text)) => format!("{code} {text}"),
        _ => error.to_string(),
    }
}

/// Sorts a failed send: see the module comment for which refusals end the
/// retries.
fn classify(error: &lettre::transport::smtp::Error) -> Failure {
    let reason = smtp_reason(error);
    if error.is_permanent() {
        let text = std::error::Error::source(error)
            .map(|s| s.to_string())
            .unwrap_or_default();
        if is_bad_mailbox(&text) {
            Failure::Permanent(reason)
        } else {
            Failure::Refused(reason)
        }
    } else if error.is_transient() {
        Failure::Refused(reason)
    } else {
        Failure::Unavailable(reason)
    }
}

/// A permanent reply's text about the destination address (RFC 3463's
/// "5.1.x Addressing status": bad mailbox, bad domain, moved...).
fn is_bad_mailbox(reply_text: &str) -> bool {
    reply_text.trim_start().starts_with("5.1.")
}

/// Claims the next due message, sends it and records the outcome, all in
/// one transaction.
async fn deliver_next(
    pool: &PgPool,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    config: &MailerConfig,
) -> Result<Step, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row: Option<Due> = sqlx::query_as(
        "SELECT id, recipient, subject, body_text, body_html, attempts FROM outbox
          WHERE sent_at IS NULL AND cancelled_at IS NULL AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id
          LIMIT 1
            FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(Step::NothingDue);
    };
    let outcome = match build(from, &row) {
        Ok(message) => transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| classify(&e)),
        Err(failure) => Err(failure),
    };
    let step = match outcome {
        Ok(()) => {
            // The bodies hold a live link: gone once the mail has left.
            sqlx::query(
                "UPDATE outbox SET sent_at = now(), attempts = attempts + 1,
                        body_text = NULL, body_html = NULL, last_error = NULL
                  WHERE id = $1",
            )
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
            tracing::debug!(id = row.id, "mail sent");
            Step::Delivered
        }
        Err(Failure::Permanent(reason)) => {
            tracing::warn!(id = row.id, %reason, "mail cancelled: it can never be sent");
            sqlx::query(
                "UPDATE outbox SET cancelled_at = now(), attempts = attempts + 1,
                        body_text = NULL, body_html = NULL, last_error = left($2, 500)
                  WHERE id = $1",
            )
            .bind(row.id)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
            Step::Failed
        }
        Err(Failure::Refused(reason)) => {
            retry_later(&mut tx, config, &row, reason, Step::Failed).await?
        }
        Err(Failure::Unavailable(reason)) => {
            retry_later(&mut tx, config, &row, reason, Step::Unavailable).await?
        }
    };
    tx.commit().await?;
    Ok(step)
}

/// Records a failed attempt and when to try again.
async fn retry_later(
    tx: &mut sqlx::PgConnection,
    config: &MailerConfig,
    row: &Due,
    reason: String,
    step: Step,
) -> Result<Step, sqlx::Error> {
    let wait = backoff(config, row.attempts);
    tracing::warn!(
        id = row.id,
        attempts = row.attempts + 1,
        ?wait,
        %reason,
        "mail not sent; will retry"
    );
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = left($2, 500),
                next_attempt_at = now() + make_interval(secs => $3 * (0.8 + random() * 0.2))
          WHERE id = $1",
    )
    .bind(row.id)
    .bind(reason)
    .bind(wait.as_secs_f64())
    .execute(&mut *tx)
    .await?;
    Ok(step)
}

/// Sends everything due until nothing is left, the SMTP server is gone or
/// the database fails. Returns how the pass ended.
async fn deliver_all_due(
    pool: &PgPool,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    config: &MailerConfig,
) -> Step {
    loop {
        match deliver_next(pool, transport, from, config).await {
            Ok(Step::Delivered | Step::Failed) => {}
            Ok(step) => return step,
            Err(error) => {
                tracing::warn!(%error, "mail worker could not use the outbox");
                return Step::Unavailable;
            }
        }
    }
}

/// How long until the next message falls due (capped at `poll_every`).
async fn next_due_in(pool: &PgPool, config: &MailerConfig) -> Duration {
    let seconds: Option<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 FROM outbox
          WHERE sent_at IS NULL AND cancelled_at IS NULL",
    )
    .fetch_one(pool)
    .await
    .ok()
    .flatten();
    match seconds {
        // Due already, yet the pass found nothing: another worker holds it.
        Some(s) if s <= 0.0 => config.poll_every,
        Some(s) => Duration::from_secs_f64(s).min(config.poll_every),
        None => config.poll_every,
    }
}

/// Starts a worker on the runtime. Returns None (and says so in the log)
/// when no SMTP server is configured or the settings are unusable. The
/// worker ends when the pool is closed, or when the handle is aborted.
pub fn spawn_mail_worker(
    pool: PgPool,
    config: MailerConfig,
) -> Option<tokio::task::JoinHandle<()>> {
    let Some(url) = config.smtp_url.clone() else {
        tracing::warn!("SMTP_URL is not set: mail stays queued in the outbox until it is");
        return None;
    };
    let from: Mailbox = match config.from.parse() {
        Ok(from) => from,
        Err(error) => {
            tracing::error!(%error, from = %config.from, "MAIL_FROM is not a valid mailbox; mail stays queued");
            return None;
        }
    };
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(&url) {
        Ok(builder) => builder.timeout(Some(SMTP_TIMEOUT)).build(),
        Err(error) => {
            tracing::error!(%error, "SMTP_URL could not be used; mail stays queued");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        let mut listener = connect_listener(&pool).await;
        while !pool.is_closed() {
            let wait = match deliver_all_due(&pool, &transport, &from, &config).await {
                Step::NothingDue => next_due_in(&pool, &config).await,
                _ => config.poll_every,
            };
            match listener.as_mut() {
                Some(l) => {
                    if let Ok(Err(error)) = tokio::time::timeout(wait, l.recv()).await {
                        tracing::warn!(%error, "outbox listener lost; reconnecting");
                        listener = None;
                        tokio::time::sleep(config.poll_every).await;
                    }
                }
                None => {
                    tokio::time::sleep(wait).await;
                    listener = connect_listener(&pool).await;
                }
            }
        }
    }))
}

async fn connect_listener(pool: &PgPool) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.ok()?;
    listener.listen(OUTBOX_CHANNEL).await.ok()?;
    Some(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_permanent_reply_about_the_address_ends_the_retries() {
        assert!(is_bad_mailbox("5.1.1 mailbox unavailable"));
        assert!(is_bad_mailbox(" 5.1.2 bad destination domain"));
        assert!(!is_bad_mailbox("5.7.1 relaying denied"));
        assert!(!is_bad_mailbox("mailbox unavailable"));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let config = MailerConfig::default();
        assert_eq!(backoff(&config, 0), Duration::from_secs(5));
        assert_eq!(backoff(&config, 1), Duration::from_secs(10));
        assert_eq!(backoff(&config, 3), Duration::from_secs(40));
        assert_eq!(backoff(&config, 10), Duration::from_secs(900));
        assert_eq!(backoff(&config, 1000), Duration::from_secs(900));
    }
}
