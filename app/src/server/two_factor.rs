//! Two-factor authentication: TOTP keys (RFC 6238, via `totp-rs`), recovery
//! codes, and the half-signed-in challenge between password and code.

use cookie::{time::Duration as CookieDuration, SameSite};
use http::HeaderMap;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use totp_rs::{Algorithm, Builder, Totp};

use super::session::{self, RequestMeta, SessionToken};
use super::state::AuthSettings;
use crate::{
    domain::two_factor::{OneTimeCode, RECOVERY_ALPHABET, RECOVERY_CODES, RECOVERY_CODE_CHARS},
    error::AppError,
};

/// The cookie of a browser between its password and its code.
pub const CHALLENGE_COOKIE: &str = "teamroom_2fa";
/// How long the code may take.
pub const CHALLENGE_MINUTES: i64 = 5;
const ISSUER: &str = "Teamroom";

fn totp(secret: &[u8], account_name: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(account_name.replace(':', ""))
        .build()
        .map_err(AppError::internal("building a TOTP"))
}

/// A fresh key, the way an authenticator app receives it.
pub struct Enrolment {
    /// Base32, as people type it into an app.
    pub secret_base32: String,
    pub otpauth_url: String,
    /// The `otpauth://` URL as an SVG QR code.
    pub qr_svg: String,
}

/// Starts (or restarts) enrolment with a new key, not yet enabled. Refused
/// when two-factor is already on: it must be turned off first.
pub async fn begin(
    conn: &mut PgConnection,
    account_id: i64,
    email: &str,
) -> Result<Enrolment, AppError> {
    let mut secret = [0u8; 20];
    OsRng.fill_bytes(&mut secret);
    let replaced = sqlx::query!(
        "INSERT INTO two_factor (account_id, secret) VALUES ($1, $2)
         ON CONFLICT (account_id) DO UPDATE SET secret = $2, created_at = now(), last_used_step = 0
          WHERE two_factor.enabled_at IS NULL",
        account_id,
        secret.as_slice()
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if replaced == 0 {
        return Err(AppError::Conflict(
            "Two-factor is already on. Turn it off first to use a new app.".into(),
        ));
    }
    let totp = totp(&secret, email)?;
    let otpauth_url = totp.to_url().map_err(AppError::internal("otpauth URL"))?;
    let qr_svg = qrcode::QrCode::new(otpauth_url.as_bytes())
        .map_err(AppError::internal("QR code"))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(Enrolment {
        secret_base32: totp.secret().to_base32(),
        otpauth_url,
        qr_svg,
    })
}

/// Whether the account has two-factor on.
pub async fn is_enabled(conn: &mut PgConnection, account_id: i64) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM two_factor WHERE account_id = $1 AND enabled_at IS NOT NULL) AS "on!""#,
        account_id
    )
    .fetch_one(conn)
    .await?)
}

/// How a code was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    App,
    Recovery,
}

/// Which state of enrolment a code is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// The key being enrolled (app codes only).
    Enrolling,
    Enabled,
}

/// Checks a code and uses it up: an app code's time step is recorded (a
/// code of that step or an earlier one is refused afterwards, in the same
/// statement, so two concurrent uses cannot both pass); a recovery code is
/// marked used. `Ok(None)` is a wrong, stale or replayed code.
pub async fn use_code(
    conn: &mut PgConnection,
    account_id: i64,
    code: &OneTimeCode,
    state: KeyState,
) -> Result<Option<Accepted>, AppError> {
    match code {
        OneTimeCode::App(digits) => {
            let Some(row) = sqlx::query!(
                "SELECT secret, enabled_at IS NOT NULL AS \"enabled!\" FROM two_factor WHERE account_id = $1",
                account_id
            )
            .fetch_optional(&mut *conn)
            .await?
            else {
                return Ok(None);
            };
            if row.enabled != (state == KeyState::Enabled) {
                return Ok(None);
            }
            let Some(step) = totp(&row.secret, "")?.check_current(digits) else {
                return Ok(None);
            };
            let step = i64::try_from(step).map_err(AppError::internal("TOTP step out of range"))?;
            let used = sqlx::query!(
                "UPDATE two_factor SET last_used_step = $2
                  WHERE account_id = $1 AND last_used_step < $2",
                account_id,
                step
            )
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok((used == 1).then_some(Accepted::App))
        }
        OneTimeCode::Recovery(text) => {
            if state != KeyState::Enabled {
                return Ok(None);
            }
            let used = sqlx::query!(
                "UPDATE recovery_codes SET used_at = now()
                  WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL",
                account_id,
                recovery_hash(text)
            )
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok((used == 1).then_some(Accepted::Recovery))
        }
    }
}

fn recovery_hash(code: &str) -> Vec<u8> {
    Sha256::digest(code.as_bytes()).to_vec()
}

/// Replaces the account's recovery codes with ten new ones; only their
/// hashes are kept, so this answer is the only time they are seen.
pub async fn new_recovery_codes(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Vec<String>, AppError> {
    sqlx::query!(
        "DELETE FROM recovery_codes WHERE account_id = $1",
        account_id
    )
    .execute(&mut *conn)
    .await?;
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        // 16 characters of a 32-letter alphabet: 80 bits. 256 is a multiple
        // of 32, so `byte % 32` has no bias.
        let mut bytes = [0u8; RECOVERY_CODE_CHARS];
        OsRng.fill_bytes(&mut bytes);
        let code: String = bytes
            .iter()
            .map(|b| RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()] as char)
            .collect();
        sqlx::query!(
            "INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)",
            account_id,
            recovery_hash(&code)
        )
        .execute(&mut *conn)
        .await?;
        codes.push(code);
    }
    Ok(codes)
}

/// Recovery codes not used yet.
pub async fn recovery_codes_left(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL"#,
        account_id
    )
    .fetch_one(conn)
    .await?)
}

/// Turns two-factor off and forgets the key and the recovery codes.
pub async fn remove(conn: &mut PgConnection, account_id: i64) -> Result<bool, AppError> {
    sqlx::query!(
        "DELETE FROM recovery_codes WHERE account_id = $1",
        account_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(
        sqlx::query!("DELETE FROM two_factor WHERE account_id = $1", account_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            > 0,
    )
}

/// Opens the half-signed-in state: returns the cookie to send.
pub async fn open_challenge(
    conn: &mut PgConnection,
    account_id: i64,
    workspace_id: Option<i64>,
    meta: &RequestMeta,
    settings: &AuthSettings,
) -> Result<String, AppError> {
    let token = SessionToken::generate();
    sqlx::query!(
        "INSERT INTO two_factor_challenges (token_hash, account_id, workspace_id, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(mins => $4))",
        token.hash.as_slice(),
        account_id,
        workspace_id,
        CHALLENGE_MINUTES as i32
    )
    .execute(conn)
    .await?;
    Ok(session::build_cookie(
        CHALLENGE_COOKIE,
        &token.value,
        CookieDuration::minutes(CHALLENGE_MINUTES),
        SameSite::Strict,
        meta.secure,
        settings,
    ))
}

/// The cookie that ends the half-signed-in state in the browser.
pub fn clear_challenge_cookie(settings: &AuthSettings, secure: bool) -> String {
    session::build_cookie(
        CHALLENGE_COOKIE,
        "",
        CookieDuration::ZERO,
        SameSite::Strict,
        secure,
        settings,
    )
}

/// A live challenge: who proved their password, and where they were going.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub token_hash: Vec<u8>,
    pub account_id: i64,
    pub workspace_id: Option<i64>,
}

/// The browser's challenge, if it has one that has not expired.
pub async fn challenge_of(
    conn: &mut PgConnection,
    headers: &HeaderMap,
    settings: &AuthSettings,
) -> Result<Option<Challenge>, AppError> {
    let Some(value) = session::cookie_value(headers, CHALLENGE_COOKIE, 43, settings) else {
        return Ok(None);
    };
    Ok(sqlx::query_as!(
        Challenge,
        "SELECT token_hash, account_id, workspace_id FROM two_factor_challenges
          WHERE token_hash = $1 AND expires_at > now()",
        session::hash_token(&value)
    )
    .fetch_optional(conn)
    .await?)
}

/// Ends a challenge (used, or abandoned).
pub async fn close_challenge(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM two_factor_challenges WHERE token_hash = $1 OR expires_at <= now()",
        token_hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Where a proven password leads: straight into a session, or, with
/// two-factor on, to the code form first. Every sign-in path (the sign-in
/// form, a password reset, accepting an invitation with a password) ends
/// here, so none of them skips the second factor.
pub enum SignInStep {
    /// Signed in: the cookies to send and where to land.
    Session {
        cookies: Vec<String>,
        new_device: bool,
    },
    /// The code is still needed: the challenge cookie to send.
    NeedsCode { cookie: String },
}

pub const CODE_PAGE: &str = "/signin/two-factor";

pub async fn after_password(
    conn: &mut PgConnection,
    account_id: i64,
    workspace_id: Option<i64>,
    settings: &AuthSettings,
    meta: &RequestMeta,
    headers: &HeaderMap,
) -> Result<SignInStep, AppError> {
    if is_enabled(conn, account_id).await? {
        // A browser with a session of another account keeps it until the
        // code is right; nothing is signed in yet.
        let cookie = open_challenge(conn, account_id, workspace_id, meta, settings).await?;
        return Ok(SignInStep::NeedsCode { cookie });
    }
    let started = session::start(conn, account_id, workspace_id, settings, meta, headers).await?;
    Ok(SignInStep::Session {
        cookies: started.cookies,
        new_device: started.new_device,
    })
}

/// Turns on the account's enrolled authenticator (its code was just
/// accepted with `KeyState::Enrolling`).
pub async fn enable(conn: &mut PgConnection, account_id: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE two_factor SET enabled_at = now() WHERE account_id = $1",
        account_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The Owner's "Owners and Admins must use two-factor". Turning it on
/// needs two-factor on the Owner's own account first, so they cannot shut
/// themselves out. An actual change is audited; ownership is checked
/// again under the workspace lock.
pub async fn set_required_in_workspace(
    pool: &sqlx::PgPool,
    ctx: &super::Ctx,
    required: bool,
) -> Result<(), AppError> {
    use super::workspace::{require_owner_in, set_switch, OwnerSwitch};
    let mut tx = pool.begin().await?;
    let ctx = &require_owner_in(&mut tx, ctx).await?;
    if required && !is_enabled(&mut tx, ctx.actor_account_id).await? {
        return Err(AppError::field(
            "required",
            "Turn on two-factor for your own account first (in your profile).",
        ));
    }
    set_switch(&mut tx, ctx, OwnerSwitch::RequireTwoFactor, required).await?;
    tx.commit().await?;
    Ok(())
}
