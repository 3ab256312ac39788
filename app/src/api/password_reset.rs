//! Passwords: "Forgot password?" (a mail with a single-use link, only its
//! hash stored, working for 30 minutes, then a new password; the request
//! answers the same whether or not the address has an account), and
//! changing one's password on the profile.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{invite::LinkToken, EmailAddress, Password},
    server::{app_state, credentials, db, password, password_reset as resets, session},
};

/// Minutes a reset link works.
pub const RESET_LINK_MINUTES: i64 = 30;

/// What the "check your mail" message says, whatever the address.
pub const RESET_SENT: &str = "If an account uses that address, a link to choose a new password is on its way. It works for 30 minutes.";

#[server(prefix = "/api", endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    let email = EmailAddress::parse(&email).map_err(|message| AppError::field("email", message))?;
    let state = app_state()?;
    let (meta, _) = super::request_meta(&state)?;
    let mut tx = state.pool.begin().await?;
    resets::request_reset(&mut tx, &state, &meta, &email).await?;
    tx.commit().await?;
    // A form posted without JavaScript lands on the "check your mail" view.
    leptos_axum::redirect("/forgot-password?sent");
    Ok(())
}

/// Whether a reset link still works, so its page can say so before any typing.
#[server(prefix = "/api", endpoint = "password_reset_state")]
pub async fn password_reset_state(token: String) -> Result<bool, AppError> {
    let Ok(token) = LinkToken::parse(&token) else {
        return Ok(false);
    };
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    resets::reset_link_open(&mut conn, &session::hash_token(token.as_str())).await
}

/// The message for a link that cannot be used (any reason: used, expired,
/// unknown), with what to do next.
pub const RESET_LINK_DEAD: &str =
    "This link has expired or was already used. Ask for a new one from the sign-in page.";

/// Sets the new password from a reset link. Every session of the account
/// ends, its sign-in lock is cleared, the person is told by mail, and this
/// browser is signed in.
#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let token = LinkToken::parse(&token).map_err(|_| AppError::field("form", RESET_LINK_DEAD))?;
    let new_password =
        Password::parse(&password).map_err(|message| AppError::field("password", message))?;
    let state = app_state()?;
    let (meta, headers) = super::request_meta(&state)?;
    let hash_of_token = session::hash_token(token.as_str());
    // Cheap refusal of a dead link before the hashing.
    let open = {
        let mut conn = state.pool.acquire().await?;
        resets::reset_link_open(&mut conn, &hash_of_token).await?
    };
    if !open {
        return Err(AppError::field("form", RESET_LINK_DEAD));
    }
    let hash = password::hash(&state, &new_password).await?;

    let mut tx = state.pool.begin().await?;
    let account_id = resets::use_reset_link(&mut tx, &meta, &hash_of_token, &hash).await?;
    let workspaces = db::active_workspaces(&mut tx, account_id).await?;
    let workspace_id = workspaces.first().map(|w| w.id);
    // A reset proves the mailbox, not the second factor: with two-factor on,
    // the code is still asked.
    let landing =
        super::after_password(&mut tx, account_id, workspace_id, &state, &meta, &headers).await?;
    tx.commit().await?;
    super::land(landing)
}

/// Changes one's own password from the profile: the current one first
/// (through the sign-in throttle), then the new one. `end_other_sessions`
/// (offered, on by default) signs every other browser out.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    #[server(default)] end_other_sessions: bool,
) -> Result<u64, AppError> {
    let ctx = crate::server::require_account().await?;
    let new_password = Password::parse(&new_password)
        .map_err(|message| AppError::field("new_password", message))?;
    if current_password.is_empty() {
        return Err(AppError::field(
            "current_password",
            "Enter your current password.",
        ));
    }
    let state = app_state()?;
    let (_, headers) = super::request_meta(&state)?;
    if !credentials::check_own(
        &state,
        ctx.account_id,
        &ctx.meta,
        &headers,
        &current_password,
    )
    .await?
    {
        return Err(AppError::field(
            "current_password",
            "That is not your current password.",
        ));
    }
    let hash = password::hash(&state, &new_password).await?;
    let mut tx = state.pool.begin().await?;
    let ended = resets::set_own_password(&mut tx, &ctx, &hash, end_other_sessions).await?;
    tx.commit().await?;
    Ok(ended)
}
