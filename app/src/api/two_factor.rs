//! Two-factor on the profile (turn on with a code, recovery codes, turn
//! off), and the code form of signing in.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::two_factor::OneTimeCode,
    server::{
        app_state, audit, credentials, db, notices, require_account, session, throttle,
        two_factor::{self as tf, Accepted, KeyState},
    },
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorState {
    pub enabled: bool,
    pub recovery_codes_left: i64,
    /// A workspace of theirs requires it of Owners and Admins.
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorEnrolment {
    /// The key in groups of four, for typing into an app.
    pub key: String,
    pub otpauth_url: String,
    pub qr_svg: String,
}

#[server(prefix = "/api", endpoint = "two_factor_status")]
pub async fn two_factor_status() -> Result<TwoFactorState, AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    Ok(TwoFactorState {
        enabled: tf::is_enabled(&mut conn, ctx.account_id).await?,
        recovery_codes_left: tf::recovery_codes_left(&mut conn, ctx.account_id).await?,
        required: db::two_factor_required(&mut conn, ctx.account_id).await?,
    })
}

/// A new key to scan; two-factor is on only once a code from it confirms.
#[server(prefix = "/api", endpoint = "begin_two_factor")]
pub async fn begin_two_factor() -> Result<TwoFactorEnrolment, AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let email = db::account_profile(&mut conn, ctx.account_id).await?.email;
    let enrolment = tf::begin(&mut conn, ctx.account_id, &email).await?;
    Ok(TwoFactorEnrolment {
        key: crate::domain::two_factor::grouped(&enrolment.secret_base32),
        otpauth_url: enrolment.otpauth_url,
        qr_svg: enrolment.qr_svg,
    })
}

/// Confirms the new key with the account's password and a code from the
/// app, and turns two-factor on; answers the ten recovery codes (shown this
/// once). The password keeps a stolen session from putting its own second
/// factor in front of the account's owner.
#[server(prefix = "/api", endpoint = "confirm_two_factor")]
pub async fn confirm_two_factor(password: String, code: String) -> Result<Vec<String>, AppError> {
    let ctx = require_account().await?;
    let digits = OneTimeCode::parse_app(&code).map_err(|m| AppError::field("code", m))?;
    prove_password(&ctx, &password).await?;
    let state = app_state()?;
    // Reserved on its own (committed at once), so a wrong code still counts.
    throttle::TWO_FACTOR
        .reserve(
            &mut *state.pool.acquire().await?,
            &ctx.account_id.to_string(),
        )
        .await?;
    let mut tx = state.pool.begin().await?;
    if tf::use_code(
        &mut tx,
        ctx.account_id,
        &OneTimeCode::App(digits),
        KeyState::Enrolling,
    )
    .await?
    .is_none()
    {
        return Err(AppError::field(
            "code",
            "That code is not right. Check the time on your phone, then type the newest code.",
        ));
    }
    tf::enable(&mut tx, ctx.account_id).await?;
    let codes = tf::new_recovery_codes(&mut tx, ctx.account_id).await?;
    throttle::TWO_FACTOR
        .give_back(&mut tx, &ctx.account_id.to_string())
        .await?;
    ctx.record(
        &mut tx,
        audit::Event::new(None, audit::AuditAction::TwoFactorEnabled)
            .target_account(ctx.account_id),
    )
    .await?;
    notices::two_factor_changed(&mut tx, ctx.account_id, &ctx.meta, true).await?;
    tx.commit().await?;
    Ok(shown(&codes))
}

/// Checks the account's password through the sign-in throttle.
#[cfg(feature = "ssr")]
async fn prove_password(ctx: &crate::server::AccountCtx, password: &str) -> Result<(), AppError> {
    if password.is_empty() {
        return Err(AppError::field("password", "Enter your password."));
    }
    let state = app_state()?;
    let (_, headers) = super::request_meta(&state)?;
    if credentials::check_own(&state, ctx.account_id, &ctx.meta, &headers, password).await? {
        Ok(())
    } else {
        Err(AppError::field("password", "That is not your password."))
    }
}

/// Recovery codes as shown: four groups of four.
#[cfg(feature = "ssr")]
fn shown(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|c| crate::domain::two_factor::grouped(c))
        .collect()
}

/// Turning two-factor off needs the password and a code (or a recovery code).
#[server(prefix = "/api", endpoint = "disable_two_factor")]
pub async fn disable_two_factor(password: String, code: String) -> Result<(), AppError> {
    let ctx = require_account().await?;
    let code = OneTimeCode::parse(&code).map_err(|m| AppError::field("code", m))?;
    prove_password(&ctx, &password).await?;
    let state = app_state()?;
    throttle::TWO_FACTOR
        .reserve(
            &mut *state.pool.acquire().await?,
            &ctx.account_id.to_string(),
        )
        .await?;
    let mut tx = state.pool.begin().await?;
    if tf::use_code(&mut tx, ctx.account_id, &code, KeyState::Enabled)
        .await?
        .is_none()
    {
        return Err(AppError::field("code", "That code is not right."));
    }
    tf::remove(&mut tx, ctx.account_id).await?;
    throttle::TWO_FACTOR
        .give_back(&mut tx, &ctx.account_id.to_string())
        .await?;
    ctx.record(
        &mut tx,
        audit::Event::new(None, audit::AuditAction::TwoFactorDisabled)
            .target_account(ctx.account_id),
    )
    .await?;
    notices::two_factor_changed(&mut tx, ctx.account_id, &ctx.meta, false).await?;
    tx.commit().await?;
    Ok(())
}

/// New recovery codes (the old ones stop working); needs the password.
#[server(prefix = "/api", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes(password: String) -> Result<Vec<String>, AppError> {
    let ctx = require_account().await?;
    prove_password(&ctx, &password).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    if !tf::is_enabled(&mut tx, ctx.account_id).await? {
        return Err(AppError::Conflict("Two-factor is not on.".into()));
    }
    let codes = tf::new_recovery_codes(&mut tx, ctx.account_id).await?;
    ctx.record(
        &mut tx,
        audit::Event::new(None, audit::AuditAction::RecoveryCodesRegenerated)
            .target_account(ctx.account_id),
    )
    .await?;
    tx.commit().await?;
    Ok(shown(&codes))
}

/// The second step of signing in. The browser holds only the challenge
/// cookie from the password step; a right code (each time step once) or an
/// unused recovery code starts the session. Throttled like passwords.
#[server(prefix = "/api", endpoint = "verify_two_factor")]
pub async fn verify_two_factor(code: String) -> Result<(), AppError> {
    let code = OneTimeCode::parse(&code).map_err(|m| AppError::field("code", m))?;
    let state = app_state()?;
    let (meta, headers) = super::request_meta(&state)?;
    let mut conn = state.pool.acquire().await?;
    let challenge = tf::challenge_of(&mut conn, &headers, &state.auth)
        .await?
        .ok_or_else(|| {
            AppError::field(
                "form",
                "This sign-in took too long or was already used. Sign in again.",
            )
        })?;
    let key = challenge.account_id.to_string();
    throttle::TWO_FACTOR.reserve(&mut conn, &key).await?;
    drop(conn);
    let mut tx = state.pool.begin().await?;
    let Some(accepted) =
        tf::use_code(&mut tx, challenge.account_id, &code, KeyState::Enabled).await?
    else {
        return Err(AppError::field(
            "code",
            "That code is not right, or was already used. Type the newest code from your app.",
        ));
    };
    // Only this try is given back: the account's right code does not hand
    // whoever is guessing at it a fresh set of free tries.
    throttle::TWO_FACTOR.give_back(&mut tx, &key).await?;
    tf::close_challenge(&mut tx, &challenge.token_hash).await?;
    let started = session::start(
        &mut tx,
        challenge.account_id,
        challenge.workspace_id,
        &state.auth,
        &meta,
        &headers,
    )
    .await?;
    if accepted == Accepted::Recovery {
        let left = tf::recovery_codes_left(&mut tx, challenge.account_id).await?;
        audit::record(
            &mut tx,
            &audit::Actor::new(challenge.account_id, None, &meta),
            audit::Event::new(None, audit::AuditAction::RecoveryCodeUsed)
                .target_account(challenge.account_id)
                .details(serde_json::json!({ "left": left })),
        )
        .await?;
        notices::recovery_code_used(&mut tx, challenge.account_id, &meta, left).await?;
    }
    if started.new_device {
        notices::new_sign_in(&mut tx, challenge.account_id, &meta).await?;
    }
    tx.commit().await?;
    super::set_cookie(tf::clear_challenge_cookie(&state.auth, meta.secure))?;
    for cookie in started.cookies {
        super::set_cookie(cookie)?;
    }
    leptos_axum::redirect(super::auth::landing_path(challenge.workspace_id.is_some()));
    Ok(())
}

/// "Owners and Admins must use two-factor", set by the Owner. Turning it on
/// needs two-factor on the Owner's own account first, so the Owner is not
/// shut out of their own workspace by their own click.
#[server(prefix = "/api", endpoint = "set_workspace_two_factor")]
pub async fn set_workspace_two_factor(required: bool) -> Result<(), AppError> {
    let ctx = crate::server::require(crate::domain::Permission::ManageWorkspace).await?;
    if !ctx.positions.owner {
        return Err(AppError::Forbidden);
    }
    let state = app_state()?;
    tf::set_required_in_workspace(&state.pool, &ctx, required).await
}
