//! The audit log page: who did what to whom, filtered by actor, target,
//! action and date, newest first, paged by keyset (the event id).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::Permission,
    server::{app_state, audit::page, require},
};

pub const PAGE_SIZE: i64 = 50;

/// The filters, as the page's URL and the CSV link carry them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilters {
    /// Part of the actor's name or email.
    #[serde(default)]
    pub actor: String,
    /// Part of the target's name or email.
    #[serde(default)]
    pub target: String,
    /// A workspace `AuditAction`'s code, or empty for all.
    #[serde(default)]
    pub action: String,
    /// First and last day (inclusive), in the viewer's zone; both or none.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    /// `2026-11-23 09:12:05`, in the viewer's zone.
    pub at: String,
    pub actor: String,
    /// The account an owner was acting as, once impersonation exists.
    pub acting_as: Option<String>,
    pub action: String,
    pub action_label: String,
    pub target: String,
    /// Before and after, as compact JSON.
    pub details: String,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// The id to continue after, when there is more.
    pub next_before: Option<i64>,
    pub time_zone: String,
}

#[server(prefix = "/api", endpoint = "audit_log")]
pub async fn audit_log(
    actor: String,
    target: String,
    action: String,
    from: String,
    to: String,
    before: Option<i64>,
) -> Result<AuditPage, AppError> {
    let ctx = require(Permission::ViewAuditLog).await?;
    let filters = AuditFilters {
        actor,
        target,
        action,
        from,
        to,
    };
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let (rows, time_zone) = page(&mut conn, &ctx, &filters, before, PAGE_SIZE).await?;
    let next_before = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(AuditPage {
        rows,
        next_before,
        time_zone,
    })
}
