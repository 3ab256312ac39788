//! The one password check. Sign-in, accepting an invitation as an existing
//! account, changing the email address and password reset's neighbours all
//! come here, so each is throttled the same way.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use http::HeaderMap;

use super::{
    password,
    session::{self, RequestMeta},
    state::AppState,
    throttle::{self, Backoff},
};
use crate::{domain::EmailAddress, error::AppError};

/// Longest password worth hashing; longer input is refused before any work.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// An account whose password was just proven.
#[derive(Debug, Clone)]
pub struct Proven {
    pub account_id: i64,
}

/// Checks `password` for the account at `email`, throttled.
///
/// Order matters: the tries are reserved in PostgreSQL first (the global
/// and per-address windows, then the backoff for the address, or for this
/// browser when it has signed in to the account before; the client address
/// too for unknown browsers), then one argon2 verify runs. A burst of
/// concurrent guesses therefore gets only the free tries checked. Unknown
/// and known addresses are throttled by the same key (the address), cost
/// one verify each, and answer in the same words, so neither the answer nor
/// its timing tells whether an account exists.
///
/// `Ok(None)` is a wrong password or unknown address; `Err(RateLimited)` a
/// refusal before any check.
pub async fn check(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    email: &EmailAddress,
    password: &str,
) -> Result<Option<Proven>, AppError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::field(
            "password",
            "That is longer than any password here.",
        ));
    }
    let place = password::queue_place(state)?;
    let ip = throttle::ip_key(meta.ip.as_deref()).to_owned();
    // Reservations commit at once (autocommit), before the slow part, and
    // no connection is held while hashing.
    let mut conn = state.pool.acquire().await?;
    // The client's own limit first: one client's flood is refused before
    // it can use up the limit everyone shares.
    throttle::SIGN_IN_IP_RATE
        .limited(state.auth.sign_ins_per_ip_minute)
        .hit(&mut conn, &ip)
        .await?;
    throttle::SIGN_IN_GLOBAL.hit(&mut conn, "all").await?;
    let account = sqlx::query!(
        "SELECT id, password_hash FROM accounts WHERE lower(email) = $1",
        email.normalized()
    )
    .fetch_optional(&mut *conn)
    .await?;
    let device_key = match (&account, session::device_from_headers(headers, &state.auth)) {
        (Some(account), Some(device))
            if session::is_known_device(&mut conn, account.id, &device).await? =>
        {
            // The cookie's hash, not the cookie: the table is no key ring.
            Some(format!(
                "{}:{}",
                account.id,
                URL_SAFE_NO_PAD.encode(session::hash_token(&device))
            ))
        }
        _ => None,
    };
    let address = email.normalized();
    let backoff: (&Backoff, &str) = match &device_key {
        Some(key) => (&throttle::SIGN_IN_DEVICE, key.as_str()),
        None => (&throttle::SIGN_IN_EMAIL, address.as_str()),
    };
    if device_key.is_none() {
        throttle::SIGN_IN_IP.reserve(&mut conn, &ip).await?;
    }
    if let Err(refused) = backoff.0.reserve(&mut conn, backoff.1).await {
        if device_key.is_none() {
            throttle::SIGN_IN_IP.give_back(&mut conn, &ip).await?;
        }
        return Err(refused);
    }
    drop(conn);

    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let matches = match password::verify(state, place, password.to_owned(), stored).await {
        Ok(matches) => matches,
        Err(error) => {
            // Not checked (the hashing task failed): not a failure.
            let mut conn = state.pool.acquire().await?;
            backoff.0.give_back(&mut conn, backoff.1).await?;
            if device_key.is_none() {
                throttle::SIGN_IN_IP.give_back(&mut conn, &ip).await?;
            }
            return Err(error);
        }
    };
    // `verify` answers false for an unknown email, so a match implies an account.
    let Some(account) = account.filter(|_| matches) else {
        return Ok(None);
    };
    let mut conn = state.pool.acquire().await?;
    backoff.0.succeeded(&mut conn, backoff.1).await?;
    if device_key.is_none() {
        throttle::SIGN_IN_IP.give_back(&mut conn, &ip).await?;
    }
    Ok(Some(Proven {
        account_id: account.id,
    }))
}

/// The signed-in person's own password, re-entered (email change, password
/// change, two-factor): the same throttled check as signing in, so a stolen
/// session cannot try passwords here faster than at the sign-in form.
/// `Ok(false)` for a wrong one, including one too long to be anyone's.
pub async fn check_own(
    state: &AppState,
    account_id: i64,
    meta: &RequestMeta,
    headers: &HeaderMap,
    password: &str,
) -> Result<bool, AppError> {
    let email = {
        let mut conn = state.pool.acquire().await?;
        super::db::account_profile(&mut conn, account_id)
            .await?
            .email
    };
    let email = EmailAddress::parse(&email)
        .map_err(AppError::internal("a stored address does not parse"))?;
    match check(state, meta, headers, &email, password).await {
        Ok(proven) => Ok(proven.is_some_and(|p| p.account_id == account_id)),
        Err(AppError::Validation(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Forgets every failure counted against an account's address (a password
/// reset or an admin's unlock).
pub async fn clear_lock(conn: &mut sqlx::PgConnection, email: &str) -> Result<(), AppError> {
    throttle::SIGN_IN_EMAIL
        .succeeded(conn, &email.to_lowercase())
        .await
}

/// Ends every wait on an account: its address, its known browsers, its
/// two-factor codes (an admin's unlock).
pub async fn clear_all_locks(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    email: &str,
) -> Result<(), AppError> {
    clear_lock(conn, email).await?;
    sqlx::query!(
        "DELETE FROM auth_throttles
          WHERE (scope = $1 AND key LIKE $2 || ':%') OR (scope = $3 AND key = $2)",
        throttle::SIGN_IN_DEVICE.scope,
        account_id.to_string(),
        throttle::TWO_FACTOR.scope
    )
    .execute(conn)
    .await?;
    Ok(())
}
