//! The invitation link's page: what it shows for a link, and accepting
//! (works without JavaScript). A new person gives a name and a password;
//! an existing account signs in.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{invite::LinkToken, DisplayName, EmailAddress, Password},
    error::FieldErrors,
    server::{
        accounts, app_state, audit, credentials, db, joining, password, require_account, session,
    },
};

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
fn link_state(found: &joining::LinkedInvitation) -> LinkState {
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
    let Some(found) = joining::by_token(&mut conn, token.as_str()).await? else {
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
        joining::by_token(&mut conn, token.as_str()).await?
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
    let found = joining::by_token(&mut tx, token.as_str())
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
            accounts::claim(&mut tx, id, &name, &hash, &meta).await?;
            id
        }
    };
    // The link came to this mailbox: the address is proven.
    accounts::mark_verified(&mut tx, account_id).await?;
    let actor = audit::Actor::new(account_id, None, &meta);
    joining::join(
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
