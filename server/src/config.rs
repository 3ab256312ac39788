//! Configuration from environment variables; see the README for the list.

use std::time::Duration;

use app::server::AuthSettings;

use crate::mailer::MailerConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub max_connections: u32,
    /// `scheme://host[:port]` the site is reached at, when it differs from
    /// the Host header (behind a proxy). Its https scheme turns on Secure
    /// cookies.
    pub public_origin: Option<String>,
    pub auth: AuthSettings,
    pub mailer: MailerConfig,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match var(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a whole number, not {text:?}")),
    }
}

impl Config {
    /// Reads the environment. Mail settings:
    ///
    /// - `SMTP_URL` (optional): where mail is sent, in lettre's URL format:
    ///   `smtp://127.0.0.1:2525` (plain, e.g. the `server mail-sink`
    ///   catcher), `smtp://user:password@host:587?tls=required` (STARTTLS),
    ///   `smtps://user:password@host` (TLS, port 465). Unset: invitations
    ///   and verification mails stay queued in the `outbox` table until a
    ///   server started with it delivers them.
    /// - `MAIL_FROM` (default `Teamroom <no-reply@teamroom.localhost>`):
    ///   the From header.
    /// - `MAIL_RETRY_BASE_SECONDS` (default 5): the wait after a failed
    ///   attempt, doubled on each further failure, up to
    /// - `MAIL_RETRY_MAX_SECONDS` (default 900). Messages are retried until
    ///   they leave; none is dropped because the SMTP server was down.
    pub fn from_env() -> Result<Self, String> {
        let database_url = var("DATABASE_URL").ok_or_else(|| {
            "DATABASE_URL is not set. `cargo xtask run` sets it up for you; otherwise point it at \
             a PostgreSQL database, e.g. postgres://user:password@localhost/teamroom"
                .to_owned()
        })?;
        let public_origin = var("PUBLIC_URL").map(|url| url.trim_end_matches('/').to_owned());
        let defaults = AuthSettings::default();
        let idle = number(
            "SESSION_IDLE_TIMEOUT_MINUTES",
            defaults.session_idle.num_minutes(),
        )?;
        let absolute = number(
            "SESSION_ABSOLUTE_TIMEOUT_MINUTES",
            defaults.session_absolute.num_minutes(),
        )?;
        if idle <= 0 || absolute <= 0 {
            return Err("session timeouts must be at least one minute".into());
        }
        let retry_base = number("MAIL_RETRY_BASE_SECONDS", 5u64)?;
        let retry_max = number("MAIL_RETRY_MAX_SECONDS", 900u64)?;
        if retry_base == 0 || retry_max < retry_base {
            return Err(
                "MAIL_RETRY_BASE_SECONDS must be at least 1 and MAIL_RETRY_MAX_SECONDS at least as large"
                    .into(),
            );
        }
        Ok(Self {
            database_url,
            max_connections: number("DATABASE_MAX_CONNECTIONS", 10)?,
            auth: AuthSettings {
                session_idle: chrono::Duration::minutes(idle),
                session_absolute: chrono::Duration::minutes(absolute),
                secure_cookies: public_origin
                    .as_deref()
                    .is_some_and(|o| o.starts_with("https://")),
                public_origin: public_origin.clone(),
                invitation_ttl: chrono::Duration::days(number(
                    "INVITATION_EXPIRY_DAYS",
                    defaults.invitation_ttl.num_days(),
                )?),
                invitations_per_hour: number(
                    "INVITATIONS_PER_HOUR",
                    defaults.invitations_per_hour,
                )?,
            },
            public_origin,
            mailer: MailerConfig {
                smtp_url: var("SMTP_URL"),
                from: var("MAIL_FROM").unwrap_or_else(|| MailerConfig::default().from),
                retry_base: Duration::from_secs(retry_base),
                retry_max: Duration::from_secs(retry_max),
                ..MailerConfig::default()
            },
        })
    }
}
