//! Sign up, sign in, sign out, and who is signed in.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    domain::{DisplayName, EmailAddress, Password, WorkspaceName},
    error::FieldErrors,
    server::{app_state, audit, credentials, db, password, session, throttle},
};
use crate::{
    domain::{Permission, Plan, Positions},
    error::AppError,
};

/// The signed-in person and the workspace they are looking at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub account_id: i64,
    pub name: String,
    pub email: String,
    pub workspace: Option<CurrentWorkspace>,
    /// Every workspace where they are an active member, for the switcher.
    pub workspaces: Vec<WorkspaceSummary>,
    /// The workspace asks its Owners and Admins for two-factor, they are
    /// one, and theirs is off: every page but the profile sends them there.
    pub must_enrol_two_factor: bool,
    /// Set while the Owner views the workspace as this person ("Log in as
    /// user"): the banner shows it and the switcher is hidden.
    pub viewing_as: Option<super::impersonation::ViewingAs>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentWorkspace {
    pub id: i64,
    pub name: String,
    pub plan: Plan,
    pub positions: Positions,
    /// "Owners and Admins must use two-factor".
    pub require_two_factor: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceSummary {
    pub id: i64,
    pub name: String,
}

impl Me {
    /// Whether to show a control; the server checks again on every call.
    pub fn can(&self, action: Permission) -> bool {
        self.workspace
            .as_ref()
            .is_some_and(|w| w.positions.access(action, w.plan) != crate::domain::Access::Denied)
    }
}

/// Where a person lands after signing in.
pub fn landing_path(has_workspace: bool) -> &'static str {
    if has_workspace {
        "/team"
    } else {
        "/workspaces/new"
    }
}

/// Whether a new password is on the common-password list, asked by the
/// pages while the person types (the list stays on the server). Public and
/// stateless: the answer is about a published list, not about any account,
/// and every endpoint that takes a new password checks it again.
#[server(prefix = "/api", endpoint = "check_new_password")]
pub async fn check_new_password(password: String) -> Result<bool, AppError> {
    Ok(Password::is_on_common_list(&password))
}

#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(email: String, name: String, password: String) -> Result<(), AppError> {
    let state = app_state()?;
    let mut errors = FieldErrors::default();
    let email = errors.take("email", EmailAddress::parse(&email));
    let name = errors.take("name", DisplayName::parse(&name));
    let password = errors.take("password", Password::parse(&password));
    let (Some(email), Some(name), Some(password)) = (email, name, password) else {
        return Err(errors.into());
    };
    let workspace_name = WorkspaceName::parse(&format!("{}'s workspace", first_name(&name)))
        .or_else(|_| WorkspaceName::parse("My workspace"))
        .map_err(AppError::internal("no default workspace name parses"))?;

    let (meta, headers) = super::request_meta(&state)?;
    {
        let mut conn = state.pool.acquire().await?;
        throttle::SIGN_UP_IP
            .limited(state.auth.sign_ups_per_ip_hour)
            .hit(&mut conn, throttle::ip_key(meta.ip.as_deref()))
            .await?;
        throttle::SIGN_UP_GLOBAL.hit(&mut conn, "all").await?;
    }
    let hash = password::hash(&state, &password).await?;

    let mut tx = state.pool.begin().await?;
    let account_id = db::insert_account(&mut tx, &email, &name, &hash).await?;
    let (workspace_id, membership_id) =
        db::insert_workspace(&mut tx, account_id, &workspace_name).await?;
    let started = session::start(
        &mut tx,
        account_id,
        Some(workspace_id),
        &state.auth,
        &meta,
        &headers,
    )
    .await?;
    // Invitations to this address wait until it is confirmed from this
    // account's own session, so typing someone else's address claims nothing.
    let origin = crate::server::mail::link_origin(&state.auth);
    crate::server::email_verification::queue_verification(
        &mut tx,
        account_id,
        email.as_str(),
        &origin,
    )
    .await?;
    let actor = audit::Actor::new(account_id, None, &meta);
    audit::record(
        &mut tx,
        &actor,
        audit::Event::new(None, audit::AuditAction::SignedUp).target_account(account_id),
    )
    .await?;
    audit::record(
        &mut tx,
        &actor,
        audit::Event::new(Some(workspace_id), audit::AuditAction::WorkspaceCreated)
            .target_membership(membership_id)
            .details(serde_json::json!({ "name": workspace_name.as_str() })),
    )
    .await?;
    tx.commit().await?;

    for cookie in started.cookies {
        super::set_cookie(cookie)?;
    }
    leptos_axum::redirect(landing_path(true));
    Ok(())
}

#[cfg(feature = "ssr")]
fn first_name(name: &DisplayName) -> &str {
    name.as_str()
        .split_whitespace()
        .next()
        .unwrap_or(name.as_str())
}

/// The one message for an unknown email and a wrong password, so the form
/// does not tell which addresses have accounts.
pub const WRONG_CREDENTIALS: &str = "Email or password is incorrect.";

#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    let state = app_state()?;
    let email = EmailAddress::parse(&email).map_err(|message| AppError::field("email", message))?;
    if password.is_empty() {
        return Err(AppError::field("password", "Enter your password."));
    }
    let (meta, headers) = super::request_meta(&state)?;
    let proven = credentials::check(&state, &meta, &headers, &email, &password)
        .await?
        .ok_or_else(|| AppError::field("form", WRONG_CREDENTIALS))?;

    let mut tx = state.pool.begin().await?;
    // A password the Owner set (seed 003) opens no session: the person
    // chooses their own first, on the reset page, which then asks for the
    // second factor as every reset does.
    if let Some(token) =
        crate::server::accounts::forced_password_change(&mut tx, proven.account_id).await?
    {
        tx.commit().await?;
        leptos_axum::redirect(&format!("/reset-password/{token}?set-by-owner"));
        return Ok(());
    }
    let workspaces = db::active_workspaces(&mut tx, proven.account_id).await?;
    let workspace_id = workspaces.first().map(|w| w.id);
    let landing = super::after_password(
        &mut tx,
        proven.account_id,
        workspace_id,
        &state,
        &meta,
        &headers,
    )
    .await?;
    tx.commit().await?;
    super::land(landing)
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let ctx = crate::server::require_account_even_impersonating().await?;
    // An Owner viewing as someone signs out of the view only, and is back
    // in their own (unlike Zammad, nothing of the view survives).
    if ctx.impersonator_account_id.is_some() {
        let back = super::impersonation::return_to_owner(
            &ctx,
            crate::server::impersonation::EndReason::SignOut,
        )
        .await?;
        leptos_axum::redirect(if back { "/" } else { "/signin" });
        return Ok(());
    }
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    session::delete(&mut conn, &ctx.session.token_hash).await?;
    super::set_cookie(session::clear_cookie(&state.auth, ctx.meta.secure))?;
    leptos_axum::redirect("/signin");
    Ok(())
}

/// The signed-in person, their workspaces, and the one they are in. If that
/// one no longer admits them (deactivated, removed) another is chosen, or
/// none, and the session remembers the choice.
#[server(prefix = "/api", endpoint = "current_user")]
pub async fn current_user() -> Result<Me, AppError> {
    let ctx = crate::server::require_account_even_impersonating().await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let profile = db::account_profile(&mut conn, ctx.account_id).await?;
    let mut workspaces = db::active_workspaces(&mut conn, ctx.account_id).await?;
    // A view as someone is pinned to one workspace: their others stay unseen.
    if ctx.impersonator_account_id.is_some() {
        workspaces.retain(|w| Some(w.id) == ctx.session.active_workspace_id);
    }
    let current = ctx
        .session
        .active_workspace_id
        .and_then(|id| workspaces.iter().find(|w| w.id == id))
        .or_else(|| workspaces.first());
    let current_id = current.map(|w| w.id);
    if current_id != ctx.session.active_workspace_id {
        session::set_active_workspace(&mut conn, &ctx.session.token_hash, current_id).await?;
    }
    let mut summaries: Vec<WorkspaceSummary> = workspaces
        .iter()
        .map(|w| WorkspaceSummary {
            id: w.id,
            name: w.name.clone(),
        })
        .collect();
    summaries.sort_by_key(|w| w.name.to_lowercase());
    let must_enrol_two_factor = match current {
        Some(w) if w.require_two_factor && (w.positions(ctx.account_id).owner || w.is_admin) => {
            !crate::server::two_factor::is_enabled(&mut conn, ctx.account_id).await?
        }
        _ => false,
    };
    let viewing_as = ctx
        .impersonator_account_id
        .map(|_| super::impersonation::ViewingAs {
            name: profile.display_name.clone(),
            email: profile.email.clone(),
            ends_at_ms: ctx.session.expires_at.timestamp_millis(),
        });
    Ok(Me {
        viewing_as,
        must_enrol_two_factor,
        account_id: profile.id,
        name: profile.display_name,
        email: profile.email,
        workspace: current.map(|w| CurrentWorkspace {
            id: w.id,
            name: w.name.clone(),
            plan: w.plan,
            positions: w.positions(ctx.account_id),
            require_two_factor: w.require_two_factor,
        }),
        workspaces: summaries,
    })
}
