//! Inviting people: the invite dialog, pending members' Send / Resend /
//! Revoke, and limited members. Accepting is `api::accept`, the bell
//! `api::bell`, address confirmation `api::email_verification`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{
        invite::MAX_DIALOG_BATCH,
        limits::{distinct_ids, MAX_GROUPS_PER_INVITE},
        DisplayName, Permission,
    },
    server::{
        app_state,
        invitations::{self as inv, invite_members_as, revoke_invite_as, send_invite_as},
        require,
    },
};

/// What the invite dialog did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteReport {
    pub invited: Vec<String>,
    pub already_members: Vec<String>,
    pub emailed: bool,
}

/// Which of these (lower-cased) addresses already belong to this workspace.
/// Answers only for this workspace: nothing about accounts elsewhere.
#[server(prefix = "/api", endpoint = "check_invite_addresses")]
pub async fn check_invite_addresses(addresses: Vec<String>) -> Result<Vec<String>, AppError> {
    let ctx = require(Permission::InviteMembers).await?;
    if addresses.len() > MAX_DIALOG_BATCH * 2 {
        return Err(AppError::field(
            "addresses",
            format!("Check at most {MAX_DIALOG_BATCH} addresses at a time."),
        ));
    }
    let lowered: Vec<String> = addresses.iter().map(|a| a.trim().to_lowercase()).collect();
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    inv::existing_member_emails(&mut conn, ctx.workspace_id, &lowered).await
}

#[server(prefix = "/api", endpoint = "invite_members")]
pub async fn invite_members(
    addresses: String,
    send_email: bool,
    #[server(default)] group_ids: Vec<i64>,
    all_projects: bool,
    #[server(default)] project_ids: Vec<i64>,
) -> Result<InviteReport, AppError> {
    let ctx = require(Permission::InviteMembers).await?;
    let state = app_state()?;
    invite_members_as(
        &state,
        &ctx,
        &addresses,
        send_email,
        group_ids,
        all_projects,
        project_ids,
    )
    .await
}

#[server(prefix = "/api", endpoint = "add_limited_member")]
pub async fn add_limited_member(
    name: String,
    #[server(default)] group_ids: Vec<i64>,
) -> Result<i64, AppError> {
    let ctx = require(Permission::InviteMembers).await?;
    let name = DisplayName::parse(&name).map_err(|m| AppError::field("name", m))?;
    let group_ids = distinct_ids(group_ids, MAX_GROUPS_PER_INVITE, "groups")
        .map_err(|m| AppError::field("groups", m))?;
    let state = app_state()?;
    inv::add_limited(&state.pool, &ctx, &name, &group_ids).await
}

/// Seconds a pending member must wait between two invitation emails, so a
/// slip of the finger (or a script) cannot flood someone's inbox.
pub const RESEND_COOLDOWN_SECS: i64 = 60;

/// Sends the invitation email to a pending member: the first one (added
/// without email) or a new one, which kills the previous link.
#[server(prefix = "/api", endpoint = "send_invite")]
pub async fn send_invite(membership_id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::InviteMembers).await?;
    let state = app_state()?;
    send_invite_as(&state, &ctx, membership_id).await
}

/// Takes back an invitation: the pending member goes, the link says
/// "revoked", and an unsent email is cancelled.
#[server(prefix = "/api", endpoint = "revoke_invite")]
pub async fn revoke_invite(membership_id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::InviteMembers).await?;
    let state = app_state()?;
    revoke_invite_as(&state.pool, &ctx, membership_id).await
}
