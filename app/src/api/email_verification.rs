//! Confirming an account's address: the link mailed at sign-up (sent
//! again on request) and the page's button that confirms it.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::invite::LinkToken,
    server::{app_state, email_verification as verification, require_account, throttle},
};

/// Mails a new confirmation link to the signed-in account's address.
#[server(prefix = "/api", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let origin = crate::server::mail::link_origin(&state.auth);
    let mut tx = state.pool.begin().await?;
    throttle::RESEND_VERIFICATION_IP
        .hit(&mut tx, throttle::ip_key(ctx.meta.ip.as_deref()))
        .await?;
    verification::resend(&mut tx, &ctx, &origin).await?;
    tx.commit().await?;
    Ok(())
}

/// The confirmation link's button (a POST, so mail scanners that fetch
/// links do not confirm by accident). Joins every workspace whose open
/// invitation went to this address (`verification::verify` decides).
#[server(prefix = "/api", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    let token = LinkToken::parse(&token).map_err(|m| AppError::field("form", m))?;
    let state = app_state()?;
    let (meta, _) = super::request_meta(&state)?;
    let signed_in = require_account().await.ok();
    let mut tx = state.pool.begin().await?;
    verification::verify(&mut tx, &meta, &token, signed_in.as_ref()).await?;
    tx.commit().await?;
    leptos_axum::redirect("/team");
    Ok(())
}
