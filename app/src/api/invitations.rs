//! Inviting people: the invite dialog, pending members' Send / Resend /
//! Revoke, and limited members. Accepting is `api::accept`, the bell
//! `api::bell`, address confirmation `api::email_verification`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{
        invite::{check_addresses, AddressVerdict, FREE_PLAN_BATCH, MAX_DIALOG_BATCH},
        limits::{distinct_ids, MAX_GROUPS_PER_INVITE, MAX_PROJECTS_PER_INVITE},
        DisplayName, EmailAddress, Permission, Plan,
    },
    server::{
        app_state, audit, db,
        invitations::{self as inv, BatchOptions, Invitee, Outcome},
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

/// The invite dialog's rule, for the page and the REST API: addresses as
/// typed (one per line or comma-separated).
#[cfg(feature = "ssr")]
pub async fn invite_members_as(
    state: &crate::server::AppState,
    ctx: &crate::server::Ctx,
    addresses: &str,
    send_email: bool,
    group_ids: Vec<i64>,
    all_projects: bool,
    project_ids: Vec<i64>,
) -> Result<InviteReport, AppError> {
    // Lists first: bounded and without repeats before anything is read or
    // built from them (each invitee gets every group and project).
    let group_ids = distinct_ids(group_ids, MAX_GROUPS_PER_INVITE, "groups")
        .map_err(|m| AppError::field("groups", m))?;
    let project_ids = if all_projects {
        Vec::new()
    } else {
        distinct_ids(project_ids, MAX_PROJECTS_PER_INVITE, "projects")
            .map_err(|m| AppError::field("projects", m))?
    };
    let checks = check_addresses(addresses, |_| false);
    let invalid: Vec<String> = checks
        .iter()
        .filter_map(|c| match &c.verdict {
            AddressVerdict::Invalid(reason) => Some(format!("{} ({reason})", c.text)),
            _ => None,
        })
        .collect();
    if !invalid.is_empty() {
        return Err(AppError::field(
            "addresses",
            format!("Fix or remove: {}", invalid.join("; ")),
        ));
    }
    let emails: Vec<EmailAddress> = checks
        .iter()
        .filter(|c| c.verdict == AddressVerdict::Valid)
        .filter_map(|c| EmailAddress::parse(&c.text).ok())
        .collect();
    if emails.is_empty() {
        return Err(AppError::field(
            "addresses",
            "Enter at least one email address.",
        ));
    }
    if ctx.plan == Plan::Free && emails.len() > FREE_PLAN_BATCH {
        return Err(AppError::field(
            "addresses",
            format!(
                "On the Free plan you can invite up to {FREE_PLAN_BATCH} people at a time; this list has {}. \
                 Send them in smaller batches.",
                emails.len()
            ),
        ));
    }
    if emails.len() > MAX_DIALOG_BATCH {
        return Err(AppError::field(
            "addresses",
            format!(
                "Invite up to {MAX_DIALOG_BATCH} people at a time here; use Import CSV for longer lists."
            ),
        ));
    }
    let origin = crate::server::mail::link_origin(&state.auth);
    let mut tx = state.pool.begin().await?;
    // Every group must be this workspace's before a single pair is built.
    inv::require_groups(&mut tx, ctx.workspace_id, &group_ids).await?;
    let invitees: Vec<Invitee> = emails
        .iter()
        .map(|email| Invitee {
            email: email.clone(),
            name: None,
            roles: Default::default(),
            group_ids: group_ids.clone(),
        })
        .collect();
    let outcomes = inv::invite_batch(
        &mut tx,
        ctx,
        &state.auth,
        &origin,
        &invitees,
        &BatchOptions {
            send_email,
            all_projects,
            project_ids,
            partial_seats: false,
        },
    )
    .await?;
    tx.commit().await?;

    let mut report = InviteReport {
        invited: Vec::new(),
        already_members: Vec::new(),
        emailed: send_email,
    };
    for (email, outcome) in emails.iter().zip(outcomes) {
        match outcome {
            Outcome::Invited { .. } => report.invited.push(email.to_string()),
            Outcome::AlreadyMember | Outcome::NoSeat => {
                report.already_members.push(email.to_string())
            }
        }
    }
    Ok(report)
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
    let mut tx = state.pool.begin().await?;
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO memberships (workspace_id, kind, status, display_name)
         VALUES ($1, 'limited', 'active', $2) RETURNING id",
        ctx.workspace_id,
        name.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    let added = sqlx::query!(
        "INSERT INTO group_members (workspace_id, group_id, membership_id)
         SELECT $1, g.id, $2 FROM groups g WHERE g.workspace_id = $1 AND g.id = ANY ($3)",
        ctx.workspace_id,
        id,
        &group_ids
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if added != group_ids.len() as u64 {
        return Err(AppError::field(
            "groups",
            "Some of those groups are not in this workspace.",
        ));
    }
    db::refresh_member_keys(&mut tx, ctx.workspace_id, &[id]).await?;
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(
            Some(ctx.workspace_id),
            audit::AuditAction::LimitedMemberAdded,
        )
        .target_membership(id)
        .details(serde_json::json!({ "name": name.as_str() })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
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

/// Sends (or resends) a pending member's invitation; the page's and the
/// REST API's rule.
#[cfg(feature = "ssr")]
pub async fn send_invite_as(
    state: &crate::server::AppState,
    ctx: &crate::server::Ctx,
    membership_id: i64,
) -> Result<(), AppError> {
    let origin = crate::server::mail::link_origin(&state.auth);
    let mut tx = state.pool.begin().await?;
    let (_, sender) = inv::lock_for_invitations(&mut tx, ctx).await?;
    let member = sqlx::query!(
        r#"SELECT m.invited_email AS "email!",
                  EXISTS (SELECT 1 FROM invitations i
                           WHERE i.workspace_id = m.workspace_id AND i.membership_id = m.id) AS "resend!"
             FROM memberships m
            WHERE m.workspace_id = $1 AND m.id = $2 AND m.status = 'pending'
              AND m.invited_email IS NOT NULL
              FOR UPDATE OF m"#,
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let resend = member.resend;
    inv::check_rate(&mut tx, ctx.workspace_id, 1, &state.auth).await?;
    // The cool-down (by address: a revoke and re-invite does not reset it)
    // and the per-account and per-address limits.
    inv::reserve_mail(
        &mut tx,
        ctx,
        &state.auth,
        std::slice::from_ref(&member.email),
        inv::MailRefusal::Message,
    )
    .await?;
    inv::issue_links(
        &mut tx,
        ctx,
        &state.auth,
        &origin,
        &sender,
        &[inv::PendingInvite {
            membership_id,
            email: member.email,
        }],
    )
    .await?;
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(
            Some(ctx.workspace_id),
            if resend {
                audit::AuditAction::InvitationResent
            } else {
                audit::AuditAction::InvitationSent
            },
        )
        .target_membership(membership_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes back an invitation: the pending member goes, the link says
/// "revoked", and an unsent email is cancelled.
#[server(prefix = "/api", endpoint = "revoke_invite")]
pub async fn revoke_invite(membership_id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::InviteMembers).await?;
    let state = app_state()?;
    revoke_invite_as(&state.pool, &ctx, membership_id).await
}

/// Takes back a pending member's invitation; the page's and the REST API's
/// rule.
#[cfg(feature = "ssr")]
pub async fn revoke_invite_as(
    pool: &sqlx::PgPool,
    ctx: &crate::server::Ctx,
    membership_id: i64,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let email: String = sqlx::query_scalar!(
        r#"SELECT invited_email AS "email!" FROM memberships
            WHERE workspace_id = $1 AND id = $2 AND status = 'pending' AND invited_email IS NOT NULL
              FOR UPDATE"#,
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    sqlx::query!(
        "UPDATE invitations SET state = 'revoked', ended_at = now()
          WHERE workspace_id = $1 AND membership_id = $2 AND state = 'open'",
        ctx.workspace_id,
        membership_id
    )
    .execute(&mut *tx)
    .await?;
    crate::server::outbox::cancel_for_membership(&mut tx, ctx.workspace_id, membership_id).await?;
    sqlx::query!(
        "DELETE FROM memberships WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        membership_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(
            Some(ctx.workspace_id),
            audit::AuditAction::InvitationRevoked,
        )
        .target_membership(membership_id)
        .details(serde_json::json!({ "email": email })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
