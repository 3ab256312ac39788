//! The Owner's Accounts tab (Enterprise plan, seed 000): the accounts behind
//! the workspace's members and their security state, and what the Owner
//! does to them. Everyone else gets 404, as if the tab did not exist.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    domain::Permission,
    server::{accounts_tab, app_state, require, Ctx},
};
use crate::{
    domain::{accounts::TwoFactorMethod, MemberStatus},
    error::AppError,
};

/// A running timer as the tab shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunningSince {
    pub entry_id: i64,
    pub started_at: DateTime<Utc>,
    pub description: String,
    pub project: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountRow {
    pub membership_id: i64,
    pub account_id: i64,
    pub name: String,
    pub email: String,
    /// The membership's status in this workspace.
    pub status: MemberStatus,
    pub is_owner: bool,
    /// Live API keys (never their characters).
    pub api_keys: i64,
    pub authenticator: bool,
    pub recovery_codes_left: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub timer: Option<RunningSince>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Every workspace of the account is owned by this Owner, so its
    /// password and two-factor are theirs to change.
    pub within_reach: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountsPage {
    pub rows: Vec<AccountRow>,
    /// Cursor of the next page, if there is one.
    pub next: Option<String>,
    /// Until when the Owner's re-entered password lets them set passwords.
    pub reauthenticated_until: Option<DateTime<Utc>>,
}

/// The guard of every Accounts-tab function: the Owner on the Enterprise
/// plan. A refusal is 404, so the tab's existence is not told to others.
#[cfg(feature = "ssr")]
pub(crate) async fn require_tab() -> Result<Ctx, AppError> {
    require(Permission::AccountsTab)
        .await
        .map_err(|error| match error {
            AppError::Forbidden => AppError::NotFound,
            other => other,
        })
}

/// One page of accounts, searched by name or email and filtered.
#[server(prefix = "/api", endpoint = "list_accounts")]
pub async fn list_accounts(
    search: String,
    filter: String,
    cursor: Option<String>,
) -> Result<AccountsPage, AppError> {
    use crate::domain::accounts::{AccountFilter, AccountSearch};

    let ctx = require_tab().await?;
    let search = AccountSearch::parse(&search).map_err(|m| AppError::field("search", m))?;
    let filter = AccountFilter::parse(&filter).map_err(|m| AppError::field("filter", m))?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let (records, next) = accounts_tab::page(
        &mut conn,
        ctx.workspace_id,
        &search,
        filter,
        cursor.as_deref(),
    )
    .await?;
    let reauthenticated_until =
        accounts_tab::reauthenticated_until(&mut conn, &ctx.session.token_hash).await?;
    let rows = records
        .into_iter()
        .map(|r| AccountRow {
            membership_id: r.membership_id,
            account_id: r.account_id,
            name: r.name,
            email: r.email,
            status: r.status,
            is_owner: r.is_owner,
            api_keys: r.api_keys,
            authenticator: r.authenticator,
            recovery_codes_left: r.recovery_codes_left,
            locked_until: r.locked_until,
            timer: match (r.timer_entry_id, r.timer_started_at) {
                (Some(entry_id), Some(started_at)) => Some(RunningSince {
                    entry_id,
                    started_at,
                    description: r.timer_description.unwrap_or_default(),
                    project: r.timer_project,
                }),
                _ => None,
            },
            last_sign_in_at: r.last_sign_in_at,
            within_reach: r.within_reach,
        })
        .collect();
    Ok(AccountsPage {
        rows,
        next,
        reauthenticated_until,
    })
}

/// An entry the Owner just stopped, in the member's own zone, ready to be
/// corrected in the form that follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoppedEntry {
    pub entry_id: i64,
    /// `2026-11-30T09:00`, as a datetime-local input takes it.
    pub start: String,
    pub end: String,
    pub time_zone: String,
}

/// Stops a member's forgotten timer (seed 000) and saves the entry; their
/// open pages show it stopped within seconds (the stop is announced on
/// the timer channel).
#[server(prefix = "/api", endpoint = "stop_member_timer")]
pub async fn stop_member_timer(membership_id: i64) -> Result<StoppedEntry, AppError> {
    let ctx = require_tab().await?;
    let state = app_state()?;
    accounts_tab::stop_timer_of(&state.pool, &ctx, membership_id).await
}

/// Corrects the times of an entry the Owner stopped (or any finished entry
/// of the member), typed in the member's zone.
#[server(prefix = "/api", endpoint = "correct_member_entry")]
pub async fn correct_member_entry(
    membership_id: i64,
    entry_id: i64,
    start: String,
    end: String,
) -> Result<(), AppError> {
    use crate::domain::time::EntryTimes;

    let ctx = require_tab().await?;
    let times = EntryTimes::parse(&start, &end).map_err(AppError::Validation)?;
    let state = app_state()?;
    accounts_tab::correct_entry(&state.pool, &ctx, membership_id, entry_id, times).await
}

/// Removes a person's two-factor (seed 002): the recovery codes alone, or
/// everything. Allowed only on an account within the Owner's reach; their
/// sessions end and they are mailed.
#[server(prefix = "/api", endpoint = "remove_member_two_factor")]
pub async fn remove_member_two_factor(
    membership_id: i64,
    method: TwoFactorMethod,
) -> Result<(), AppError> {
    let ctx = require_tab().await?;
    let state = app_state()?;
    accounts_tab::remove_two_factor(&state.pool, &ctx, membership_id, method).await
}

/// Sets a person's password (seed 003). The Owner re-enters their own
/// password first; it counts for `REAUTH_MINUTES`. The person must choose a
/// new password at their next sign-in, every session of theirs ends, and
/// they are mailed. Only on an account within the Owner's reach.
#[server(prefix = "/api", endpoint = "set_member_password")]
pub async fn set_member_password(
    membership_id: i64,
    #[server(default)] own_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::{
        domain::Password,
        server::{credentials, password},
    };

    let ctx = require_tab().await?;
    let new_password = Password::parse(&new_password)
        .map_err(|message| AppError::field("new_password", message))?;
    let state = app_state()?;
    {
        // Refusals that need no password first, so a refused target does
        // not cost the Owner a try at their own password.
        let mut conn = state.pool.begin().await?;
        let target = accounts_tab::target(&mut conn, ctx.workspace_id, membership_id).await?;
        accounts_tab::account_wide_allowed(&target, "password")?;
    }
    let fresh = {
        let mut conn = state.pool.acquire().await?;
        accounts_tab::reauthenticated_until(&mut conn, &ctx.session.token_hash)
            .await?
            .is_some()
    };
    if !fresh {
        if own_password.is_empty() {
            return Err(AppError::field(
                "own_password",
                "Enter your own password first (asked again after 5 minutes).",
            ));
        }
        let (_, headers) = super::request_meta(&state)?;
        if !credentials::check_own(
            &state,
            ctx.actor_account_id,
            &ctx.meta,
            &headers,
            &own_password,
        )
        .await?
        {
            return Err(AppError::field(
                "own_password",
                "That is not your password.",
            ));
        }
        let mut conn = state.pool.acquire().await?;
        accounts_tab::mark_reauthenticated(&mut conn, &ctx.session.token_hash).await?;
    }
    let hash = password::hash(&state, &new_password).await?;
    accounts_tab::set_password(&state.pool, &ctx, membership_id, &hash).await
}
