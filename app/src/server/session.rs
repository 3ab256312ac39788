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
    /// Set on an impersonation session ("Log in as user"): the Owner
    /// viewing as `account_id`. See `server::impersonation`.
    pub impersonator_account_id: Option<i64>,
}

/// Where a request came from, for sessions and audit rows.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub secure: bool,
}

impl RequestMeta {
    /// Reads a request's origin. The client address is the connection's
    /// peer; `X-Forwarded-For` is believed only when that peer is one of
    /// `TRUSTED_PROXIES`, and then only as far back as the hops are trusted
    /// proxies themselves (the rightmost untrusted hop is the client), so a
    /// client cannot forge its address by sending the header itself.
    pub fn from_parts(parts: &http::request::Parts, settings: &AuthSettings) -> Self {
        let headers = &parts.headers;
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(512).collect::<String>())
        };
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let trusted =
            |ip: &std::net::IpAddr| settings.trusted_proxies.iter().any(|net| net.contains(ip));
        let mut client = peer;
        if peer.is_some_and(|ip| trusted(&ip)) {
            // Read from the right: the rightmost entry was written by the
            // proxy we trust; walk left while the hops are trusted proxies.
            // An entry that is not an address ends the walk at the last
            // trusted hop, so junk cannot push a forged address into place.
            let lines: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let entries = lines.iter().rev().flat_map(|line| line.rsplit(','));
            for entry in entries.take(32) {
                let Ok(address) = entry.trim().parse::<std::net::IpAddr>() else {
                    break;
                };
                client = Some(address);
                if !trusted(&address) {
                    break;
                }
            }
        }
        let via_trusted_proxy = peer.is_some_and(|ip| trusted(&ip));
        let forwarded_https =
            via_trusted_proxy && text("x-forwarded-proto").is_some_and(|p| p == "https");
        Self {
            ip: client.map(|ip| ip.to_string()),
            user_agent: text(header::USER_AGENT.as_str()),
            secure: settings.secure_cookies || forwarded_https,
        }
    }
}

/// The name a cookie goes by. When `PUBLIC_URL` is https every cookie is
/// named `__Host-…`: browsers then accept it only if it is Secure, for
/// `Path=/` and without `Domain`, so neither a sibling subdomain nor a
/// plain-http page can plant or overwrite it (session fixation). Over plain
/// http (local development) browsers refuse such names, so the bare name is
/// used. Reading follows the same rule: with the prefix on, a bare-named
/// cookie is ignored.
pub fn cookie_name(base: &str, settings: &AuthSettings) -> String {
    if settings.secure_cookies {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// A cookie's value from a request's `Cookie` headers: the first one named
/// `cookie_name(base)`, if it is non-empty and at most `max_len` bytes.
/// Every cookie the server reads is read here.
pub fn cookie_value(
    headers: &HeaderMap,
    base: &str,
    max_len: usize,
    settings: &AuthSettings,
) -> Option<String> {
    let name = cookie_name(base, settings);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty() && value.len() <= max_len)
}

/// The session cookie's value from a request, if any.
pub fn token_from_headers(headers: &HeaderMap, settings: &AuthSettings) -> Option<String> {
    cookie_value(headers, COOKIE_NAME, 64, settings)
}

/// The one shape of every cookie the server sets: named by `cookie_name`,
/// site-wide (`Path=/`, no `Domain`), HttpOnly, Secure behind https (always
/// when `PUBLIC_URL` is https, as `__Host-` requires); `max_age` zero
/// clears it.
pub fn build_cookie(
    base: &str,
    value: &str,
    max_age: CookieDuration,
    same_site: SameSite,
    secure: bool,
    settings: &AuthSettings,
) -> String {
    Cookie::build((cookie_name(base, settings), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(secure || settings.secure_cookies)
        .max_age(max_age)
        .build()
        .to_string()
}

/// `build_cookie` with SameSite=Lax, the shape of the session cookies.
pub fn http_only_cookie(
    base: &str,
    value: &str,
    max_age: CookieDuration,
    secure: bool,
    settings: &AuthSettings,
) -> String {
    build_cookie(base, value, max_age, SameSite::Lax, secure, settings)
}

pub fn set_cookie(token: &SessionToken, settings: &AuthSettings, secure: bool) -> String {
    http_only_cookie(
        COOKIE_NAME,
        &token.value,
        CookieDuration::seconds(settings.session_absolute.num_seconds()),
        secure,
        settings,
    )
}

pub fn clear_cookie(settings: &AuthSettings, secure: bool) -> String {
    http_only_cookie(COOKIE_NAME, "", CookieDuration::ZERO, secure, settings)
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
/// idle too long, and, for an impersonation session, still allowed
/// (`teamroom_impersonation_allowed`). Touches `last_seen_at` at most once
/// a minute.
pub async fn load(
    conn: &mut PgConnection,
    token: &str,
    settings: &AuthSettings,
) -> Result<Option<SessionRow>, AppError> {
    // A read on every request; the idle clock is written at most once a
    // minute, so ordinary requests cost no write (and no WAL flush).
    let Some(found) = sqlx::query!(
        "SELECT token_hash, account_id, active_workspace_id, expires_at, impersonator_account_id,
                last_seen_at < now() - interval '60 seconds' AS \"stale!\"
           FROM sessions
          WHERE token_hash = $1
            AND expires_at > now()
            AND last_seen_at > now() - make_interval(secs => $2)
            AND (impersonator_account_id IS NULL
                 OR (active_workspace_id = impersonation_workspace_id
                     AND teamroom_impersonation_allowed(impersonation_workspace_id,
                             impersonator_account_id, account_id, return_token_hash)))",
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
        impersonator_account_id: found.impersonator_account_id,
    }))
}

/// Ends a session. Never an Owner's view as someone: those end through
/// `server::impersonation`, which records the end and tells the person.
pub async fn delete(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM sessions WHERE token_hash = $1 AND impersonator_account_id IS NULL",
        token_hash
    )
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
/// Impersonation sessions that lapsed are ended first, with their audit
/// row and the person's notice, so none ends silently.
pub async fn purge_expired(
    conn: &mut PgConnection,
    settings: &AuthSettings,
) -> Result<u64, AppError> {
    super::impersonation::end_lapsed(conn, settings).await?;
    let done = sqlx::query!(
        "DELETE FROM sessions
          WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)",
        settings.session_idle.num_seconds() as f64
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The cookie naming this browser to the accounts it has signed in to
/// (OWASP "device cookies"). Random; the database keeps its SHA-256 per
/// account in `known_devices`.
pub const DEVICE_COOKIE: &str = "teamroom_device";

/// The device cookie's value from a request, if it has a plausible one.
pub fn device_from_headers(headers: &HeaderMap, settings: &AuthSettings) -> Option<String> {
    cookie_value(headers, DEVICE_COOKIE, 43, settings).filter(|value| value.len() == 43)
}

fn device_cookie(value: &str, secure: bool, settings: &AuthSettings) -> String {
    http_only_cookie(
        DEVICE_COOKIE,
        value,
        CookieDuration::days(400),
        secure,
        settings,
    )
}

/// Whether this browser has signed in to the account before.
pub async fn is_known_device(
    conn: &mut PgConnection,
    account_id: i64,
    device: &str,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM known_devices WHERE account_id = $1 AND device_hash = $2) AS "known!""#,
        account_id,
        hash_token(device)
    )
    .fetch_one(conn)
    .await?)
}

/// A session that has just started: the cookies to send, and whether the
/// browser was new to the account (for the "new sign-in" notice).
pub struct Started {
    pub cookies: Vec<String>,
    pub new_device: bool,
}

/// The one way a session starts (sign-in, sign-up, accepting an
/// invitation, a password reset): the browser's previous session ends (a
/// fresh id at every sign-in), the account's last sign-in is stamped, the
/// browser becomes known to the account, and an audit row is written, all
/// in the caller's transaction.
pub async fn start(
    conn: &mut PgConnection,
    account_id: i64,
    workspace_id: Option<i64>,
    settings: &AuthSettings,
    meta: &RequestMeta,
    headers: &HeaderMap,
) -> Result<Started, AppError> {
    if let Some(old) = token_from_headers(headers, settings) {
        delete(conn, &hash_token(&old)).await?;
    }
    sqlx::query!(
        "UPDATE accounts SET last_sign_in_at = now() WHERE id = $1",
        account_id
    )
    .execute(&mut *conn)
    .await?;
    let token = create(conn, account_id, workspace_id, settings, meta).await?;
    let device =
        device_from_headers(headers, settings).unwrap_or_else(|| SessionToken::generate().value);
    let had_devices: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM known_devices WHERE account_id = $1) AS "any!""#,
        account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let inserted = sqlx::query!(
        "INSERT INTO known_devices (account_id, device_hash) VALUES ($1, $2)
         ON CONFLICT (account_id, device_hash) DO UPDATE SET last_seen_at = now()
         RETURNING (xmax = 0) AS \"inserted!\"",
        account_id,
        hash_token(&device)
    )
    .fetch_one(&mut *conn)
    .await?
    .inserted;
    // An account remembers its 20 most recent browsers; any client can make
    // up a device value, so the list must not grow without end.
    sqlx::query!(
        "DELETE FROM known_devices
          WHERE account_id = $1
            AND device_hash NOT IN (SELECT device_hash FROM known_devices WHERE account_id = $1
                                     ORDER BY last_seen_at DESC LIMIT 20)",
        account_id
    )
    .execute(&mut *conn)
    .await?;
    super::audit::record(
        conn,
        &super::audit::Actor::new(account_id, None, meta),
        super::audit::Event::new(None, super::audit::AuditAction::SignedIn)
            .target_account(account_id),
    )
    .await?;
    Ok(Started {
        cookies: vec![
            set_cookie(&token, settings, meta.secure),
            device_cookie(&device, meta.secure, settings),
        ],
        new_device: inserted && had_devices,
    })
}

/// Ends every session of an account (password reset, a claimed address),
/// or every one but `keep`. An Owner's view as the account is not the
/// account's own session: it is ended (and recorded) by
/// `server::impersonation`, never here.
pub async fn end_all(
    conn: &mut PgConnection,
    account_id: i64,
    keep: Option<&[u8]>,
) -> Result<u64, AppError> {
    Ok(sqlx::query!(
        "DELETE FROM sessions
          WHERE account_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)
            AND impersonator_account_id IS NULL",
        account_id,
        keep
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// The account's live sessions of its own (not an Owner's views as it),
/// `this_token_hash`'s first, then the most recently seen, at most `limit`.
pub async fn list_of(
    conn: &mut PgConnection,
    account_id: i64,
    this_token_hash: &[u8],
    limit: i64,
) -> Result<Vec<crate::api::sessions::SessionInfo>, AppError> {
    let rows = sqlx::query!(
        "SELECT id, token_hash, user_agent, ip, created_at, last_seen_at
           FROM sessions
          WHERE account_id = $1 AND expires_at > now() AND impersonator_account_id IS NULL
          ORDER BY token_hash = $2 DESC, last_seen_at DESC
          LIMIT $3",
        account_id,
        this_token_hash,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| crate::api::sessions::SessionInfo {
            id: row.id,
            device: row
                .user_agent
                .as_deref()
                .map(super::user_agent::describe)
                .unwrap_or_else(|| "Unknown browser".to_owned()),
            ip: row.ip,
            signed_in_at: row.created_at,
            last_seen_at: row.last_seen_at,
            this_device: row.token_hash == this_token_hash,
        })
        .collect())
}

/// Ends the account's own session `session_id`; its token hash, or None
/// when the account has no such session.
pub async fn end_one(
    conn: &mut PgConnection,
    account_id: i64,
    session_id: i64,
) -> Result<Option<Vec<u8>>, AppError> {
    Ok(sqlx::query_scalar!(
        "DELETE FROM sessions
          WHERE account_id = $1 AND id = $2 AND impersonator_account_id IS NULL
      RETURNING token_hash",
        account_id,
        session_id
    )
    .fetch_optional(conn)
    .await?)
}
