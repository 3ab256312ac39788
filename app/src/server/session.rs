//! Sessions in PostgreSQL. The browser holds a random 256-bit value in an
//! HttpOnly cookie; the database holds only its SHA-256, so a leaked table
//! cannot be replayed as cookies.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use http::{header, HeaderMap};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::state::AuthSettings;
use crate::error::AppError;

pub const COOKIE_NAME: &str = "teamroom_session";

/// A freshly made session token: `value` goes to the cookie, `hash` to the
/// database.
pub struct SessionToken {
    pub value: String,
    pub hash: Vec<u8>,
}

impl SessionToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let value = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_token(&value);
        Self { value, hash }
    }
}

pub fn hash_token(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// A live session, as the guard sees it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    pub account_id: i64,
    pub active_workspace_id: Option<i64>,
    pub expires_at: DateTime<Utc>,
}

/// Where a request came from, for sessions and audit rows.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub secure: bool,
}

impl RequestMeta {
    pub fn from_headers(headers: &HeaderMap, settings: &AuthSettings) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(512).collect::<String>())
        };
        // Behind a proxy the client address is the first X-Forwarded-For hop.
        let ip = text("x-forwarded-for")
            .and_then(|v| v.split(',').next().map(|s| s.trim().to_owned()))
            .or_else(|| text("x-real-ip"));
        let forwarded_https = text("x-forwarded-proto").is_some_and(|p| p == "https");
        Self {
            ip,
            user_agent: text(header::USER_AGENT.as_str()),
            secure: settings.secure_cookies || forwarded_https,
        }
    }
}

/// The session cookie's value from a request, if any.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE_NAME)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty() && value.len() <= 64)
}

pub fn set_cookie(token: &SessionToken, settings: &AuthSettings, secure: bool) -> String {
    Cookie::build((COOKIE_NAME, token.value.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieDuration::seconds(
            settings.session_absolute.num_seconds(),
        ))
        .build()
        .to_string()
}

pub fn clear_cookie(secure: bool) -> String {
    Cookie::build((COOKIE_NAME, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieDuration::ZERO)
        .build()
        .to_string()
}

pub async fn create(
    conn: &mut PgConnection,
    account_id: i64,
    workspace_id: Option<i64>,
    settings: &AuthSettings,
    meta: &RequestMeta,
) -> Result<SessionToken, AppError> {
    let token = SessionToken::generate();
    sqlx::query!("INSERT INTO sessions (token_hash, account_id, active_workspace_id, expires_at, ip, user_agent)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5, $6)", token.hash.as_slice(), account_id, workspace_id, settings.session_absolute.num_seconds() as f64, meta.ip.as_deref(), meta.user_agent.as_deref())
    .execute(conn)
    .await?;
    Ok(token)
}

/// The live session for a cookie value: not past its absolute expiry, not
/// idle too long. Touches `last_seen_at` at most once a minute.
pub async fn load(
    conn: &mut PgConnection,
    token: &str,
    settings: &AuthSettings,
) -> Result<Option<SessionRow>, AppError> {
    // A read on every request; the idle clock is written at most once a
    // minute, so ordinary requests cost no write (and no WAL flush).
    let Some(found) = sqlx::query!(
        "SELECT token_hash, account_id, active_workspace_id, expires_at,
                last_seen_at < now() - interval '60 seconds' AS \"stale!\"
           FROM sessions
          WHERE token_hash = $1
            AND expires_at > now()
            AND last_seen_at > now() - make_interval(secs => $2)",
        hash_token(token),
        settings.session_idle.num_seconds() as f64
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    if found.stale {
        sqlx::query!(
            "UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1",
            &found.token_hash
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(Some(SessionRow {
        token_hash: found.token_hash,
        account_id: found.account_id,
        active_workspace_id: found.active_workspace_id,
        expires_at: found.expires_at,
    }))
}

pub async fn delete(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_active_workspace(
    conn: &mut PgConnection,
    token_hash: &[u8],
    workspace_id: Option<i64>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE sessions SET active_workspace_id = $2 WHERE token_hash = $1",
        token_hash,
        workspace_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes sessions past their expiry; called periodically by the server.
pub async fn purge_expired(
    conn: &mut PgConnection,
    settings: &AuthSettings,
) -> Result<u64, AppError> {
    let done = sqlx::query!(
        "DELETE FROM sessions
          WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)",
        settings.session_idle.num_seconds() as f64
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
