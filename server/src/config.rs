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
                retry_base: Duration::from_secs(number("MAIL_RETRY_BASE_SECONDS", 5)?),
                retry_max: Duration::from_secs(number("MAIL_RETRY_MAX_SECONDS", 900)?),
                ..MailerConfig::default()
            },
        })
    }
}
