//! The Team page's member list: one page at a time (keyset), the count
//! beside it, and one member's card.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    domain::{directory::DirectoryQuery, Permission},
    server::{
        app_state,
        directory::{self, Listing, Scope},
        members::{member_card, member_page},
        require_on,
    },
};
use crate::{
    domain::{
        directory::{DirectoryParams, MatchNote, MemberCount},
        MemberKind, MemberStatus, Positions,
    },
    error::AppError,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    pub membership_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub positions: Positions,
    pub status: MemberStatus,
    pub kind: MemberKind,
    pub groups: Vec<String>,
    pub team_manager: Option<String>,
    pub locked: bool,
    pub last_active_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Pending members: their latest invitation's state (`open`, `expired`,
    /// `replaced`...), or `None` when no email has been sent yet.
    pub invite_state: Option<String>,
    /// Pending members: why their latest invitation mail has not arrived
    /// (the SMTP server's answer, e.g. `550 5.1.1 mailbox unavailable`),
    /// while it is being retried or after it was given up on.
    pub delivery_error: Option<String>,
    /// Why the row matched a search, when not by its name or email.
    #[serde(default)]
    pub matched: Vec<MatchNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberPage {
    pub rows: Vec<MemberRow>,
    /// Pass back as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// One page of the member list for a view of the Team page. `after` is the
/// `next` of the previous page.
#[server(prefix = "/api", endpoint = "list_members")]
pub async fn list_members(
    #[server(default)] view: DirectoryParams,
    after: Option<String>,
) -> Result<MemberPage, AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let ctx = require_on(&mut conn, Permission::ViewTeam).await?;
    member_page(&mut conn, &ctx, &view, after.as_deref()).await
}

/// How many members match a view: exact when cheap, else "about".
#[server(prefix = "/api", endpoint = "count_members")]
pub async fn count_members(
    #[server(default)] view: DirectoryParams,
) -> Result<MemberCount, AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let ctx = require_on(&mut conn, Permission::ViewTeam).await?;
    let query = DirectoryQuery::parse(&view)?;
    let listing = Listing::prepare(&mut conn, ctx.workspace_id, Scope::of(&ctx), &query).await?;
    directory::count(&mut conn, &listing).await
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberCard {
    pub row: MemberRow,
    pub projects: Vec<String>,
    pub all_projects: bool,
}

/// One member's card (Enter on a row). Managers see only their own scope.
#[server(prefix = "/api", endpoint = "member_detail")]
pub async fn member_detail(membership_id: i64) -> Result<MemberCard, AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let ctx = require_on(&mut conn, Permission::ViewTeam).await?;
    member_card(&mut conn, &ctx, membership_id).await
}
