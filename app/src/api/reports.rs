//! The summary report: hours per member over a date range. Owners and
//! Admins see everyone; a manager the people the Team list shows them
//! (`directory::push_managed`): a Team manager their team's time, a Project
//! manager the time on their projects, and their own. Inactive members are left out unless asked for;
//! deleted members' hours stay under "Deleted user".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::Permission,
    server::{app_state, reports::summarise, require},
};

/// Label for hours whose member was deleted.
pub const DELETED_USER: &str = "Deleted user";
/// Rows sent to the page; the CSV export has them all.
pub const ROWS_SHOWN: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// None for "Deleted user".
    pub membership_id: Option<i64>,
    pub name: String,
    pub email: Option<String>,
    pub inactive: bool,
    pub entries: i64,
    pub seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: Vec<SummaryRow>,
    /// Rows in the whole report (more than `rows` holds past ROWS_SHOWN).
    pub row_count: usize,
    pub total_seconds: i64,
    pub total_entries: i64,
    /// What a scoped viewer is seeing, e.g. "your team".
    pub scope_note: Option<String>,
    /// The range reported on (`2026-11-01`), filled in when none was asked.
    pub from: String,
    pub to: String,
}

/// What the report is asked for, as the page's URL carries it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryParams {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub inactive: bool,
    /// Part of a member's name or email; deleted members never match.
    #[serde(default)]
    pub person: String,
}

#[server(prefix = "/api", endpoint = "summary_report")]
pub async fn summary_report(
    from: String,
    to: String,
    inactive: bool,
    person: String,
) -> Result<Summary, AppError> {
    let ctx = require(Permission::ViewReports).await?;
    let params = SummaryParams {
        from,
        to,
        inactive,
        person,
    };
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let mut summary = summarise(&mut conn, &ctx, &params).await?;
    summary.rows.truncate(ROWS_SHOWN);
    Ok(summary)
}
