//! The mail worker: delivers the outbox over SMTP with lettre.
//!
//! Due rows are claimed with `FOR UPDATE SKIP LOCKED` and held while they are
//! sent, then marked sent in the same transaction, so any number of workers
//! (in one process or many) can run side by side without sending a message
//! twice in normal operation. A failure is retried with exponential backoff,
//! forever: nothing is dropped because the SMTP server was down. Workers wake
//! on the outbox NOTIFY, on the next due retry, or every `poll_every`.

use std::time::Duration;

use app::server::outbox::OUTBOX_CHANNEL;
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use sqlx::{postgres::PgListener, PgPool};

/// Mail settings, from `SMTP_URL`, `MAIL_FROM`, `MAIL_RETRY_*`.
#[derive(Debug, Clone)]
pub struct MailerConfig {
    /// `smtp://host:port` (plain), `smtp://...?tls=required` (STARTTLS),
    /// `smtps://user:pass@host` (TLS); lettre's URL format. None: mail
    /// stays queued.
    pub smtp_url: Option<String>,
    pub from: String,
    pub retry_base: Duration,
    pub retry_max: Duration,
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

/// Rows claimed per transaction: small, so a slow SMTP server holds few locks.
const BATCH: i64 = 20;

#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    recipient: String,
    subject: String,
    body_text: Option<String>,
    body_html: Option<String>,
    attempts: i32,
}

/// The delay before attempt `attempts + 1`: base x 2^attempts, capped.
pub fn backoff(config: &MailerConfig, attempts: i32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
    config
        .retry_base
        .saturating_mul(factor)
        .min(config.retry_max)
}

enum Failure {
    /// Will not work however often it is tried (a malformed address).
    Permanent(String),
    Transient(String),
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

/// One pass: claim up to `BATCH` due rows, send them, record the results.
/// Returns how many were claimed.
pub async fn deliver_due(
    pool: &PgPool,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    config: &MailerConfig,
) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let due: Vec<Due> = sqlx::query_as(
        "SELECT id, recipient, subject, body_text, body_html, attempts FROM outbox
          WHERE sent_at IS NULL AND cancelled_at IS NULL AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id
          LIMIT $1
            FOR UPDATE SKIP LOCKED",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    for row in &due {
        let outcome = match build(from, row) {
            Ok(message) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| Failure::Transient(e.to_string())),
            Err(failure) => Err(failure),
        };
        match outcome {
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
            }
            Err(Failure::Permanent(reason)) => {
                tracing::warn!(id = row.id, %reason, "mail dropped: it can never be sent");
                sqlx::query(
                    "UPDATE outbox SET cancelled_at = now(), attempts = attempts + 1,
                            last_error = left($2, 500) WHERE id = $1",
                )
                .bind(row.id)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
            }
            Err(Failure::Transient(reason)) => {
                let wait = backoff(config, row.attempts);
                tracing::warn!(id = row.id, attempts = row.attempts + 1, ?wait, %reason, "mail not sent; will retry");
                sqlx::query(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = left($2, 500),
                            next_attempt_at = now() + make_interval(secs => $3)
                      WHERE id = $1",
                )
                .bind(row.id)
                .bind(reason)
                .bind(wait.as_secs_f64())
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(due.len())
}

/// How long until the next retry is due (capped at `poll_every`).
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
        Some(s) if s <= 0.0 => Duration::ZERO,
        Some(s) => Duration::from_secs_f64(s).min(config.poll_every),
        None => config.poll_every,
    }
}

/// Starts a worker on the runtime. Returns None (and says so in the log)
/// when no SMTP server is configured or the settings are unusable.
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
        Ok(builder) => builder.timeout(Some(Duration::from_secs(30))).build(),
        Err(error) => {
            tracing::error!(%error, "SMTP_URL could not be used; mail stays queued");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        let mut listener = connect_listener(&pool).await;
        loop {
            match deliver_due(&pool, &transport, &from, &config).await {
                // A full batch: there may be more due right now.
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "mail worker could not read the outbox"),
            }
            let wait = next_due_in(&pool, &config).await;
            if wait.is_zero() {
                continue;
            }
            match listener.as_mut() {
                Some(l) => {
                    if let Ok(Err(error)) = tokio::time::timeout(wait, l.recv()).await {
                        tracing::warn!(%error, "outbox listener lost; reconnecting");
                        listener = connect_listener(&pool).await;
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
    fn backoff_doubles_and_is_capped() {
        let config = MailerConfig::default();
        assert_eq!(backoff(&config, 0), Duration::from_secs(5));
        assert_eq!(backoff(&config, 1), Duration::from_secs(10));
        assert_eq!(backoff(&config, 3), Duration::from_secs(40));
        assert_eq!(backoff(&config, 10), Duration::from_secs(900));
        assert_eq!(backoff(&config, 1000), Duration::from_secs(900));
    }
}
