//! Inviting people, and accepting: the invite dialog, pending members'
//! Send / Resend / Revoke, limited members, the accept page (works without
//! JavaScript), email verification and the bell.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{
        invite::{check_addresses, AddressVerdict, LinkToken, FREE_PLAN_BATCH, MAX_DIALOG_BATCH},
        limits::{distinct_ids, MAX_GROUPS_PER_INVITE, MAX_PROJECTS_PER_INVITE},
        DisplayName, EmailAddress, Password, Permission, Plan,
    },
    error::FieldErrors,
    server::{
        app_state, audit, credentials, db,
        invitations::{self as inv, BatchOptions, Invitee, Outcome},
        password, require, require_account, session, throttle,
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

/// What the accept page shows for a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitePreview {
    pub state: LinkState,
    pub workspace_name: Option<String>,
    pub inviter_name: Option<String>,
    pub inviter_email: Option<String>,
    pub email: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The invited address has an account: accepting means signing in.
    pub has_account: bool,
    /// The browser is already signed in as that account: one button.
    pub signed_in_as_invitee: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    Open,
    Accepted,
    Declined,
    Revoked,
    Replaced,
    Expired,
    /// Malformed, or no such link.
    Unknown,
}

#[cfg(feature = "ssr")]
fn link_state(found: &inv::LinkedInvitation) -> LinkState {
    match found.state.as_str() {
        "accepted" => LinkState::Accepted,
        "declined" => LinkState::Declined,
        "replaced" => LinkState::Replaced,
        "revoked" => LinkState::Revoked,
        _ if found.membership_id.is_none() => LinkState::Revoked,
        _ if found.expires_at <= Utc::now() => LinkState::Expired,
        _ => LinkState::Open,
    }
}

/// Why a link cannot be used, in words, with who can help.
pub fn link_problem(state: LinkState, inviter: Option<&str>) -> String {
    let ask = match inviter {
        Some(name) => format!("Ask {name} to send you a new invitation."),
        None => "Ask the person who invited you to send a new invitation.".to_owned(),
    };
    match state {
        LinkState::Open => String::new(),
        LinkState::Accepted => {
            "This invitation has already been accepted. Sign in to open the workspace.".to_owned()
        }
        LinkState::Declined => format!("This invitation was declined. {ask}"),
        LinkState::Revoked => format!("This invitation was withdrawn. {ask}"),
        LinkState::Replaced => format!(
            "A newer invitation was sent after this one, so this link no longer works. \
             Use the link in the most recent email, or: {ask}"
        ),
        LinkState::Expired => format!("This invitation has expired. {ask}"),
        LinkState::Unknown => {
            "This invitation link is not valid: it may be incomplete or mistyped. \
             Open it again from the email, or ask the person who invited you for a new one."
                .to_owned()
        }
    }
}

#[server(prefix = "/api", endpoint = "invitation_preview")]
pub async fn invitation_preview(token: String) -> Result<InvitePreview, AppError> {
    let unknown = InvitePreview {
        state: LinkState::Unknown,
        workspace_name: None,
        inviter_name: None,
        inviter_email: None,
        email: None,
        expires_at: None,
        has_account: false,
        signed_in_as_invitee: false,
    };
    let Ok(token) = LinkToken::parse(&token) else {
        return Ok(unknown);
    };
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let Some(found) = inv::by_token(&mut conn, token.as_str()).await? else {
        return Ok(unknown);
    };
    let email = EmailAddress::parse(&found.email).map_err(AppError::internal(
        "a stored invitation address does not parse",
    ))?;
    let account = db::account_by_email(&mut conn, &email).await?;
    let signed_in = match require_account().await {
        Ok(ctx) => Some(ctx.account_id),
        Err(_) => None,
    };
    Ok(InvitePreview {
        state: link_state(&found),
        workspace_name: Some(found.workspace_name.clone()),
        inviter_name: found.inviter_name.clone(),
        inviter_email: found.inviter_email.clone(),
        email: Some(found.email.clone()),
        expires_at: Some(found.expires_at),
        // An account whose address was never proven is claimed through the
        // link like a new one: the new-person form.
        has_account: account.as_ref().is_some_and(|a| a.verified),
        signed_in_as_invitee: account.is_some_and(|a| Some(a.id) == signed_in),
    })
}

/// The accept form. A new person gives name and password; an existing
/// account gives its password (or nothing, when already signed in as it).
/// Lands signed in, in the workspace.
#[server(prefix = "/api", endpoint = "accept_invitation")]
pub async fn accept_invitation(
    token: String,
    #[server(default)] name: String,
    #[server(default)] password: String,
) -> Result<(), AppError> {
    let token = LinkToken::parse(&token).map_err(|m| AppError::field("form", m))?;
    let state = app_state()?;
    let (meta, headers) = super::request_meta(&state)?;
    let found = {
        let mut conn = state.pool.acquire().await?;
        inv::by_token(&mut conn, token.as_str()).await?
    };
    let Some(found) = found else {
        return Err(AppError::field(
            "form",
            link_problem(LinkState::Unknown, None),
        ));
    };
    let problem = |state: LinkState| {
        AppError::field("form", link_problem(state, found.inviter_name.as_deref()))
    };
    if link_state(&found) != LinkState::Open {
        return Err(problem(link_state(&found)));
    }
    let email = EmailAddress::parse(&found.email).map_err(AppError::internal(
        "a stored invitation address does not parse",
    ))?;
    let account = db::account_by_email(&mut *state.pool.acquire().await?, &email).await?;
    let signed_in = require_account().await.ok().map(|c| c.account_id);

    // Work out who is accepting before taking any lock: hashing is slow.
    enum Who {
        /// Already signed in as the invited account in this browser.
        SignedIn(i64),
        /// Proved the account's password just now.
        Existing(i64),
        New(DisplayName, String),
        /// An account made with this address but never confirmed (maybe by
        /// someone else, before the invitation): the link proves the
        /// mailbox, so its holder takes the account over with a new password.
        Claim(i64, DisplayName, String),
    }
    let new_person = || async {
        let mut errors = FieldErrors::default();
        let name = errors.take("name", DisplayName::parse(&name));
        let password = errors.take("password", Password::parse(&password));
        let (Some(name), Some(password)) = (name, password) else {
            return Err(AppError::from(errors));
        };
        let hash = password::hash(&state, &password).await?;
        Ok((name, hash))
    };
    let who = match &account {
        Some(account) if Some(account.id) == signed_in => Who::SignedIn(account.id),
        Some(account) if account.verified => {
            if password.is_empty() {
                return Err(AppError::field("password", "Enter your password."));
            }
            credentials::check(&state, &meta, &headers, &email, &password)
                .await?
                .ok_or_else(|| {
                    AppError::field("password", "That password is not right for this account.")
                })?;
            Who::Existing(account.id)
        }
        Some(account) => {
            let (name, hash) = new_person().await?;
            Who::Claim(account.id, name, hash)
        }
        None => {
            let (name, hash) = new_person().await?;
            Who::New(name, hash)
        }
    };

    let mut tx = state.pool.begin().await?;
    // Checked again under the row lock: two tabs cannot both use the link.
    let found = inv::by_token(&mut tx, token.as_str())
        .await?
        .ok_or_else(|| problem(LinkState::Unknown))?;
    if link_state(&found) != LinkState::Open {
        return Err(problem(link_state(&found)));
    }
    let membership_id = found
        .membership_id
        .ok_or_else(|| problem(LinkState::Revoked))?;
    // Only a password proven here may still owe a second factor.
    let password_only = matches!(who, Who::Existing(_));
    let account_id = match who {
        Who::SignedIn(id) | Who::Existing(id) => id,
        Who::New(name, hash) => {
            let id = db::insert_account(&mut tx, &email, &name, &hash).await?;
            audit::record(
                &mut tx,
                &audit::Actor::new(id, None, &meta),
                audit::Event::new(None, audit::AuditAction::SignedUp).target_account(id),
            )
            .await?;
            id
        }
        Who::Claim(id, name, hash) => {
            claim_account(&mut tx, id, &name, &hash, &meta).await?;
            id
        }
    };
    // The link came to this mailbox: the address is proven.
    sqlx::query!(
        "UPDATE accounts SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        account_id
    )
    .execute(&mut *tx)
    .await?;
    let actor = audit::Actor::new(account_id, None, &meta);
    inv::join(
        &mut tx,
        found.workspace_id,
        membership_id,
        Some(found.id),
        account_id,
        &actor,
    )
    .await?;
    let landing = if password_only {
        super::after_password(
            &mut tx,
            account_id,
            Some(found.workspace_id),
            &state,
            &meta,
            &headers,
        )
        .await?
    } else {
        let started = session::start(
            &mut tx,
            account_id,
            Some(found.workspace_id),
            &state.auth,
            &meta,
            &headers,
        )
        .await?;
        super::Landing {
            cookies: started.cookies,
            path: "/team",
        }
    };
    tx.commit().await?;
    super::land(landing)
}

/// Hands an unconfirmed account to the holder of an invitation link to its
/// address: new name and password; the old password, every session, every
/// known browser, any second factor and every pending link of the account
/// end, in the caller's transaction.
#[cfg(feature = "ssr")]
async fn claim_account(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    name: &DisplayName,
    hash: &str,
    meta: &session::RequestMeta,
) -> Result<(), AppError> {
    let claimed = sqlx::query!(
        "UPDATE accounts SET display_name = $2, password_hash = $3
          WHERE id = $1 AND email_verified_at IS NULL",
        account_id,
        name.as_str(),
        hash
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if claimed == 0 {
        // Confirmed meanwhile: its owner signs in instead.
        return Err(AppError::Conflict(
            "This address was just confirmed by its account. Sign in to accept.".into(),
        ));
    }
    crate::server::accounts::forget_previous_holder(conn, account_id).await?;
    db::refresh_account_keys(conn, account_id).await?;
    audit::record(
        conn,
        &audit::Actor::new(account_id, None, meta),
        audit::Event::new(None, audit::AuditAction::AccountClaimed).target_account(account_id),
    )
    .await?;
    Ok(())
}

/// One invitation in the bell menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BellInvitation {
    pub workspace_id: i64,
    pub invitation_id: i64,
    pub workspace_name: String,
    pub inviter_name: Option<String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bell {
    /// Invitations are shown only to a confirmed address.
    pub verified: bool,
    pub email: String,
    pub invitations: Vec<BellInvitation>,
}

#[server(prefix = "/api", endpoint = "my_invitations")]
pub async fn my_invitations() -> Result<Bell, AppError> {
    let ctx = crate::server::require_account_even_impersonating().await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let account = sqlx::query!(
        "SELECT email, email_verified_at IS NOT NULL AS \"verified!\" FROM accounts WHERE id = $1",
        ctx.account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    // An Owner viewing as the person does not see (or answer) invitations
    // to other workspaces.
    let invitations = if account.verified && ctx.impersonator_account_id.is_none() {
        sqlx::query_as!(
            BellInvitation,
            r#"SELECT i.workspace_id, i.id AS invitation_id, w.name AS workspace_name,
                      a.display_name AS "inviter_name?", i.expires_at
                 FROM invitations i
                 JOIN workspaces w ON w.id = i.workspace_id
                 JOIN memberships m ON m.workspace_id = i.workspace_id AND m.id = i.membership_id
                 LEFT JOIN accounts a ON a.id = i.invited_by_account_id
                WHERE lower(i.email) = lower($1) AND i.state = 'open' AND i.expires_at > now()
                  AND m.status = 'pending'
                  AND NOT EXISTS (SELECT 1 FROM memberships mine
                                   WHERE mine.workspace_id = i.workspace_id AND mine.account_id = $2)
                ORDER BY i.created_at DESC
                LIMIT 50"#,
            account.email,
            ctx.account_id
        )
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    Ok(Bell {
        // (nor is offered the person's confirmation mail)
        verified: account.verified || ctx.impersonator_account_id.is_some(),
        email: account.email,
        invitations,
    })
}

/// Accept or decline from the bell. Only for the confirmed address the
/// invitation went to.
#[server(prefix = "/api", endpoint = "answer_invitation")]
pub async fn answer_invitation(
    workspace_id: i64,
    invitation_id: i64,
    accept: bool,
) -> Result<(), AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let found = sqlx::query!(
        r#"SELECT i.membership_id, i.state, i.expires_at
             FROM invitations i
             JOIN accounts a ON a.id = $3 AND a.email_verified_at IS NOT NULL
                            AND lower(a.email) = lower(i.email)
            WHERE i.workspace_id = $1 AND i.id = $2
              FOR UPDATE OF i"#,
        workspace_id,
        invitation_id,
        ctx.account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let membership_id = match found.membership_id {
        Some(id) if found.state == "open" && found.expires_at > Utc::now() => id,
        _ => {
            return Err(AppError::Conflict(
                "This invitation is no longer open.".into(),
            ))
        }
    };
    let actor = ctx.actor();
    if accept {
        inv::join(
            &mut tx,
            workspace_id,
            membership_id,
            Some(invitation_id),
            ctx.account_id,
            &actor,
        )
        .await?;
        session::set_active_workspace(&mut tx, &ctx.session.token_hash, Some(workspace_id)).await?;
    } else {
        inv::end_invitation(&mut tx, workspace_id, invitation_id, "declined").await?;
        audit::record(
            &mut tx,
            &actor,
            audit::Event::new(Some(workspace_id), audit::AuditAction::InvitationDeclined)
                .target_account(ctx.account_id)
                .target_membership(membership_id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

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
    let account = sqlx::query!(
        r#"SELECT email, email_verified_at IS NOT NULL AS "verified!",
                  (SELECT max(created_at) FROM email_verifications v WHERE v.account_id = a.id) AS last_sent
             FROM accounts a WHERE id = $1 FOR UPDATE"#,
        ctx.account_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if account.verified {
        return Ok(());
    }
    if let Some(last) = account.last_sent {
        let wait = RESEND_COOLDOWN_SECS - (Utc::now() - last).num_seconds();
        if wait > 0 {
            return Err(AppError::RateLimited {
                retry_after_secs: wait as u64,
            });
        }
    }
    inv::queue_verification(&mut tx, ctx.account_id, &account.email, &origin).await?;
    tx.commit().await?;
    Ok(())
}

/// The confirmation link's button (a POST, so mail scanners that fetch
/// links do not confirm by accident). Joins every workspace whose open
/// invitation went to this address.
#[server(prefix = "/api", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    let token = LinkToken::parse(&token).map_err(|m| AppError::field("form", m))?;
    let state = app_state()?;
    let (meta, _) = super::request_meta(&state)?;
    let signed_in = require_account().await.ok();
    let mut tx = state.pool.begin().await?;
    let found = sqlx::query!(
        "SELECT v.account_id, v.email, v.used_at, v.expires_at, a.email AS account_email
           FROM email_verifications v JOIN accounts a ON a.id = v.account_id
          WHERE v.token_hash = $1 FOR UPDATE OF v",
        session::hash_token(token.as_str())
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| {
        AppError::field(
            "form",
            "This confirmation link is not valid. Sign in and ask for a new one from the bell menu.",
        )
    })?;
    if found.used_at.is_some() {
        return Err(AppError::field(
            "form",
            "This address is already confirmed. Sign in to continue.",
        ));
    }
    if found.expires_at <= Utc::now()
        || found.email.to_lowercase() != found.account_email.to_lowercase()
    {
        return Err(AppError::field(
            "form",
            "This confirmation link has expired. Sign in and ask for a new one from the bell menu.",
        ));
    }
    // Only the account's own signed-in session may confirm: a click made
    // anywhere else (the real owner of an address someone signed up with)
    // must not hand that stranger the address and its invitations.
    let Some(ctx) = signed_in.filter(|ctx| ctx.account_id == found.account_id) else {
        return Err(AppError::field(
            "form",
            format!(
                "Sign in as {} in this browser, then open the link again. If you never made a \
                 Teamroom account with this address, ignore this email: nothing was changed.",
                found.email
            ),
        ));
    };
    sqlx::query!(
        "UPDATE email_verifications SET used_at = now() WHERE token_hash = $1",
        session::hash_token(token.as_str())
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE accounts SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        found.account_id
    )
    .execute(&mut *tx)
    .await?;
    // Signing up with an invited address joins the invited workspaces.
    let open = sqlx::query!(
        "SELECT i.workspace_id, i.id, i.membership_id AS \"membership_id!\"
           FROM invitations i
           JOIN memberships m ON m.workspace_id = i.workspace_id AND m.id = i.membership_id
          WHERE lower(i.email) = lower($1) AND i.state = 'open' AND i.expires_at > now()
            AND m.status = 'pending'
            FOR UPDATE OF i",
        found.email
    )
    .fetch_all(&mut *tx)
    .await?;
    let actor = audit::Actor::new(found.account_id, None, &meta);
    let mut joined = None;
    for invitation in &open {
        if inv::join(
            &mut tx,
            invitation.workspace_id,
            invitation.membership_id,
            Some(invitation.id),
            found.account_id,
            &actor,
        )
        .await?
        {
            joined = Some(invitation.workspace_id);
        }
    }
    audit::record(
        &mut tx,
        &actor,
        audit::Event::new(None, audit::AuditAction::EmailVerified).target_account(found.account_id),
    )
    .await?;
    if let Some(workspace_id) = joined {
        session::set_active_workspace(&mut tx, &ctx.session.token_hash, Some(workspace_id)).await?;
    }
    tx.commit().await?;
    leptos_axum::redirect("/team");
    Ok(())
}
