//! "Log in as user": the Owner's view of their workspace as one member,
//! "Back to my view", and the Owner's switch for the feature. The rules are
//! in `server::impersonation`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::Permission,
    server::{
        app_state,
        impersonation::{self as imp, EndReason},
        require, require_account_even_impersonating, session, AccountCtx,
    },
};

/// Who the signed-in Owner is viewing as, for the banner (`Me::viewing_as`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewingAs {
    pub name: String,
    pub email: String,
    /// When the view ends by itself, in milliseconds since the epoch.
    pub ends_at_ms: i64,
}

/// Views the workspace as the member `membership_id` (Owner, Enterprise
/// plan; an active, full member who is not the Owner). `reason` is
/// optional, at most 500 characters of one-line text. On success the
/// browser holds a session for the person and the Owner's own session
/// waits in a second cookie: reload the whole page (e.g. to "/").
#[server(prefix = "/api", endpoint = "start_impersonation")]
pub async fn start_impersonation(
    membership_id: i64,
    reason: Option<String>,
) -> Result<(), AppError> {
    let signed_in = require_account_even_impersonating().await?;
    if signed_in.impersonator_account_id.is_some() {
        let state = app_state()?;
        let mut conn = state.pool.acquire().await?;
        let name = imp::subject_name(&mut conn, signed_in.account_id).await?;
        return Err(AppError::Conflict(format!(
            "You are already viewing as {name}. Go back to your own view first."
        )));
    }
    // Like the Accounts tab itself: anyone but the Enterprise Owner gets 404.
    let ctx = require(Permission::AccountsTab)
        .await
        .map_err(|error| match error {
            AppError::Forbidden => AppError::NotFound,
            other => other,
        })?;
    let reason = imp::parse_reason(reason.as_deref())
        .map_err(|message| AppError::field("reason", message))?;
    let state = app_state()?;
    let (_, headers) = super::request_meta(&state)?;
    // The cookie to park is the session the guard just checked.
    let owner_token = session::token_from_headers(&headers, &state.auth)
        .filter(|value| session::hash_token(value) == ctx.session.token_hash)
        .ok_or(AppError::Unauthenticated)?;
    let mut tx = state.pool.begin().await?;
    let token = imp::start(&mut tx, &ctx, membership_id, reason, &state.auth).await?;
    tx.commit().await?;
    super::set_cookie(session::set_cookie(&token, &state.auth, ctx.meta.secure))?;
    super::set_cookie(imp::owner_cookie(
        &owner_token,
        &state.auth,
        ctx.meta.secure,
    ))?;
    Ok(())
}

/// "Back to my view": ends the view (audited, the person told) and puts
/// the Owner's own session back. A plain form post lands on "/".
#[server(prefix = "/api", endpoint = "end_impersonation")]
pub async fn end_impersonation() -> Result<(), AppError> {
    let ctx = require_account_even_impersonating().await?;
    if ctx.impersonator_account_id.is_none() {
        return Err(AppError::Conflict(
            "You are not viewing as anyone: this is your own view.".into(),
        ));
    }
    let back = return_to_owner(&ctx, EndReason::Back).await?;
    leptos_axum::redirect(if back { "/" } else { "/signin" });
    Ok(())
}

/// Ends the view of `ctx` (an impersonation session) and sends the cookies
/// that return the browser to the Owner's own session: true when that
/// session is still alive (otherwise the browser is signed out).
#[cfg(feature = "ssr")]
pub(crate) async fn return_to_owner(ctx: &AccountCtx, reason: EndReason) -> Result<bool, AppError> {
    let Some(owner) = ctx.impersonator_account_id else {
        return Ok(false);
    };
    let state = app_state()?;
    let (_, headers) = super::request_meta(&state)?;
    let mut tx = state.pool.begin().await?;
    imp::end(
        &mut tx,
        &ctx.session.token_hash,
        Some(reason),
        &ctx.meta,
        &state.auth,
    )
    .await?;
    tx.commit().await?;
    let parked = imp::owner_token_from_headers(&headers, &state.auth);
    let mut conn = state.pool.acquire().await?;
    let alive = match &parked {
        Some(value) => session::load(&mut conn, value, &state.auth)
            .await?
            .is_some_and(|row| row.account_id == owner && row.impersonator_account_id.is_none()),
        None => false,
    };
    let cookies = match parked {
        Some(value) if alive => imp::return_cookies(&value, &state.auth, ctx.meta.secure),
        _ => vec![
            session::clear_cookie(&state.auth, ctx.meta.secure),
            imp::clear_owner_cookie(&state.auth, ctx.meta.secure),
        ],
    };
    for cookie in cookies {
        super::set_cookie(cookie)?;
    }
    Ok(alive)
}

/// The Owner's switch, as the Settings page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpersonationSwitch {
    pub allowed: bool,
    /// "Log in as user" exists on the Enterprise plan only.
    pub enterprise: bool,
}

#[server(prefix = "/api", endpoint = "impersonation_setting")]
pub async fn impersonation_setting() -> Result<ImpersonationSwitch, AppError> {
    let ctx = require(Permission::ManageWorkspace).await?;
    if !ctx.positions.owner {
        return Err(AppError::Forbidden);
    }
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let allowed = imp::allowed_in(&mut conn, ctx.workspace_id).await?;
    Ok(ImpersonationSwitch {
        allowed,
        enterprise: ctx.plan == crate::domain::Plan::Enterprise,
    })
}

/// Turns "Log in as user" on or off for the workspace (Owner only).
/// Turning it off ends every view into the workspace at once.
#[server(prefix = "/api", endpoint = "set_impersonation_allowed")]
pub async fn set_impersonation_allowed(allowed: bool) -> Result<(), AppError> {
    let ctx = require(Permission::ManageWorkspace).await?;
    if !ctx.positions.owner {
        return Err(AppError::Forbidden);
    }
    let state = app_state()?;
    imp::set_allowed(&state.pool, &ctx, allowed, &state.auth).await
}
