//! Changing one's email address. The request needs the current password;
//! the new address confirms it by opening a link (a POST button, so mail
//! scanners that open links change nothing); the old address is told once
//! it is done.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{invite::LinkToken, EmailAddress},
    error::FieldErrors,
    server::{app_state, credentials, email_change as changes, require_account, throttle},
};

#[server(prefix = "/api", endpoint = "request_email_change")]
pub async fn request_email_change(new_email: String, password: String) -> Result<String, AppError> {
    let ctx = require_account().await?;
    let mut errors = FieldErrors::default();
    let email = errors.take("new_email", EmailAddress::parse(&new_email));
    if password.is_empty() {
        errors.add("password", "Enter your current password.");
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    let state = app_state()?;
    let (meta, headers) = super::request_meta(&state)?;
    let mut conn = state.pool.acquire().await?;
    throttle::EMAIL_CHANGE_IP
        .hit(&mut conn, throttle::ip_key(meta.ip.as_deref()))
        .await?;
    let current = changes::current_address_other_than(&mut conn, &ctx, &email).await?;
    drop(conn);
    if !credentials::check_own(&state, ctx.account_id, &meta, &headers, &password).await? {
        return Err(AppError::field(
            "password",
            "That is not your current password.",
        ));
    }
    let mut tx = state.pool.begin().await?;
    changes::request_change(&mut tx, &state, &ctx, &current, &email).await?;
    tx.commit().await?;
    Ok(email.as_str().to_owned())
}

/// Opened from the link in the mail; the token is the credential, so this
/// is a public endpoint (`changes::confirm_change` decides).
#[server(prefix = "/api", endpoint = "confirm_email_change")]
pub async fn confirm_email_change(token: String) -> Result<String, AppError> {
    let token = LinkToken::parse(&token).map_err(|m| AppError::field("form", m))?;
    let state = app_state()?;
    let (meta, _) = super::request_meta(&state)?;
    let mut tx = state.pool.begin().await?;
    let new_email = changes::confirm_change(&mut tx, &meta, &token).await?;
    tx.commit().await?;
    Ok(new_email)
}
