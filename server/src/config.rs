//! Configuration from environment variables; see the README for the list.

use std::time::Duration;

use app::server::AuthSettings;

use crate::mailer::MailerConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub max_connections: u32,
    /// `scheme://host[:port]` the site is reached at (`PUBLIC_URL`,
    /// required): every link in mail is built from it, never from a request
    /// header. Its https scheme turns on Secure, `__Host-` prefixed cookies
    /// and HSTS.
    pub public_origin: String,
    pub auth: AuthSettings,
    pub mailer: MailerConfig,
    /// Longest one SQL statement may run on the app's connections
    /// (`DATABASE_STATEMENT_TIMEOUT_SECONDS`, default 30; 0: no limit).
    pub statement_timeout: Duration,
    /// Longest a connection may sit in an open transaction doing nothing
    /// (`DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS`, default 60; 0: no
    /// limit): PostgreSQL then ends the session, and its locks with it.
    pub idle_in_transaction_timeout: Duration,
}

/// The defaults of the two database timeouts above.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

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
    ///
    /// `serving`: `PUBLIC_URL` is required to serve; commands that send no
    /// mail (migrate, seed) do without it.
    pub fn from_env(serving: bool) -> Result<Self, String> {
        let database_url = var("DATABASE_URL").ok_or_else(|| {
            "DATABASE_URL is not set. `cargo xtask run` sets it up for you; otherwise point it at \
             a PostgreSQL database, e.g. postgres://user:password@localhost/teamroom"
                .to_owned()
        })?;
        let public_origin = match var("PUBLIC_URL") {
            None if !serving => AuthSettings::default().public_origin,
            value => public_url(value)?,
        };
        let trusted_proxies = trusted_proxies(var("TRUSTED_PROXIES"))?;
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
        let impersonation_minutes =
            number("IMPERSONATION_MINUTES", defaults.impersonation_minutes)?;
        if !(1..=24 * 60).contains(&impersonation_minutes) {
            return Err("IMPERSONATION_MINUTES must be between 1 and 1440".into());
        }
        let api_requests_per_key_minute = number(
            "API_REQUESTS_PER_KEY_PER_MINUTE",
            defaults.api_requests_per_key_minute,
        )?;
        if api_requests_per_key_minute < 1 {
            return Err("API_REQUESTS_PER_KEY_PER_MINUTE must be at least 1".into());
        }
        let export_send_timeout = number(
            "EXPORT_SEND_TIMEOUT_SECONDS",
            defaults.export_send_timeout.as_secs(),
        )?;
        let max_concurrent_exports =
            number("MAX_CONCURRENT_EXPORTS", defaults.max_concurrent_exports)?;
        if export_send_timeout == 0 || max_concurrent_exports == 0 {
            return Err(
                "EXPORT_SEND_TIMEOUT_SECONDS and MAX_CONCURRENT_EXPORTS must be at least 1".into(),
            );
        }
        let body_read_timeout = number(
            "BODY_READ_TIMEOUT_SECONDS",
            defaults.body_read_timeout.as_secs(),
        )?;
        let body_read_min_bytes_per_second = number(
            "BODY_READ_MIN_BYTES_PER_SECOND",
            defaults.body_read_min_bytes_per_second,
        )?;
        if body_read_timeout == 0 || body_read_min_bytes_per_second == 0 {
            return Err(
                "BODY_READ_TIMEOUT_SECONDS and BODY_READ_MIN_BYTES_PER_SECOND must be at least 1"
                    .into(),
            );
        }
        let max_bodies_in_flight_per_sender = number(
            "MAX_CONCURRENT_BODIES_PER_SENDER",
            defaults.max_bodies_in_flight_per_sender,
        )?;
        if max_bodies_in_flight_per_sender == 0 {
            return Err("MAX_CONCURRENT_BODIES_PER_SENDER must be at least 1".into());
        }
        if var("INVITATION_MAILS_PER_ADDRESS_PER_DAY").is_some() {
            // Silently ignoring a limit someone set would loosen it.
            return Err("INVITATION_MAILS_PER_ADDRESS_PER_DAY is replaced by INVITATION_SENDERS_PER_ADDRESS_PER_DAY and INVITATION_MAILS_PER_SENDER_AND_ADDRESS_PER_DAY (see the README)".into());
        }
        let statement_timeout = number(
            "DATABASE_STATEMENT_TIMEOUT_SECONDS",
            DEFAULT_STATEMENT_TIMEOUT.as_secs(),
        )?;
        let idle_in_transaction_timeout = number(
            "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS",
            DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT.as_secs(),
        )?;
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
                secure_cookies: public_origin.starts_with("https://"),
                trusted_proxies,
                public_origin: public_origin.clone(),
                invitation_ttl: chrono::Duration::days(number(
                    "INVITATION_EXPIRY_DAYS",
                    defaults.invitation_ttl.num_days(),
                )?),
                invitations_per_hour: number(
                    "INVITATIONS_PER_HOUR",
                    defaults.invitations_per_hour,
                )?,
                invitation_mails_per_account_hour: number(
                    "INVITATION_MAILS_PER_ACCOUNT_PER_HOUR",
                    defaults.invitation_mails_per_account_hour,
                )?,
                invitation_mails_per_account_day: number(
                    "INVITATION_MAILS_PER_ACCOUNT_PER_DAY",
                    defaults.invitation_mails_per_account_day,
                )?,
                invitation_mails_per_sender_and_address_day: number(
                    "INVITATION_MAILS_PER_SENDER_AND_ADDRESS_PER_DAY",
                    defaults.invitation_mails_per_sender_and_address_day,
                )?,
                invitation_senders_per_address_day: number(
                    "INVITATION_SENDERS_PER_ADDRESS_PER_DAY",
                    defaults.invitation_senders_per_address_day,
                )?,
                workspaces_per_account_day: number(
                    "WORKSPACES_PER_ACCOUNT_PER_DAY",
                    defaults.workspaces_per_account_day,
                )?,
                sign_ups_per_ip_hour: number(
                    "SIGN_UPS_PER_IP_PER_HOUR",
                    defaults.sign_ups_per_ip_hour,
                )?,
                sign_ins_per_ip_minute: number(
                    "SIGN_INS_PER_IP_PER_MINUTE",
                    defaults.sign_ins_per_ip_minute,
                )?,
                unconfirmed_account_ttl: chrono::Duration::hours(number(
                    "UNCONFIRMED_ACCOUNT_HOURS",
                    defaults.unconfirmed_account_ttl.num_hours(),
                )?),
                impersonation_minutes,
                api_requests_per_key_minute,
                export_send_timeout: Duration::from_secs(export_send_timeout),
                max_concurrent_exports,
                body_read_timeout: Duration::from_secs(body_read_timeout),
                body_read_min_bytes_per_second,
                max_bodies_in_flight_per_sender,
            },
            statement_timeout: Duration::from_secs(statement_timeout),
            idle_in_transaction_timeout: Duration::from_secs(idle_in_transaction_timeout),
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

/// `PUBLIC_URL`, checked: required, `http(s)://host[:port]`, no path.
fn public_url(value: Option<String>) -> Result<String, String> {
    let Some(url) = value else {
        return Err(
            "PUBLIC_URL is not set. Set it to the address people open Teamroom at, \
                    e.g. PUBLIC_URL=https://teamroom.example.com: links in mail are built from \
                    it, never from a request's Host header. `cargo xtask run` sets it for you."
                .to_owned(),
        );
    };
    let origin = url.trim().trim_end_matches('/').to_owned();
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let valid = rest.is_some_and(|host| {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    });
    if !valid {
        return Err(format!(
            "PUBLIC_URL must look like https://teamroom.example.com (scheme and host, optional port, no path), not {url:?}"
        ));
    }
    Ok(origin)
}

/// `TRUSTED_PROXIES`: addresses or networks, separated by commas, whose
/// `X-Forwarded-For` is believed. Empty: the connection's peer is the client.
fn trusted_proxies(value: Option<String>) -> Result<Vec<ipnet::IpNet>, String> {
    value
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    format!(
                        "TRUSTED_PROXIES: {item:?} is not an address or a network like 10.0.0.0/8"
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{public_url, trusted_proxies};

    #[test]
    fn public_url_is_required_and_must_be_an_origin() {
        assert!(public_url(None)
            .unwrap_err()
            .contains("PUBLIC_URL is not set"));
        assert_eq!(
            public_url(Some("https://team.example/".into())).unwrap(),
            "https://team.example"
        );
        assert!(public_url(Some("team.example".into())).is_err());
        assert!(public_url(Some("https://team.example/app".into())).is_err());
        assert!(public_url(Some("javascript:alert(1)".into())).is_err());
    }

    #[test]
    fn trusted_proxies_take_addresses_and_networks() {
        let nets = trusted_proxies(Some("10.0.0.0/8, 127.0.0.1".into())).unwrap();
        assert_eq!(nets.len(), 2);
        assert!(nets[1].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(trusted_proxies(Some("nonsense".into())).is_err());
        assert!(trusted_proxies(None).unwrap().is_empty());
    }
}
