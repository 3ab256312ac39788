//! Bulk actions on the Team list: deactivate, reactivate, give or take a
//! role, add to or take out of a group, for a selection of rows or for
//! every member matching the current view. The browser calls this once per
//! batch (a progress bar), each batch one transaction; every member is
//! checked against the same rules as the member card, and whoever a rule
//! refuses is reported with the reason instead of failing the batch.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use super::lifecycle::RoleName;
use crate::{domain::directory::DirectoryParams, error::AppError};
#[cfg(feature = "ssr")]
use crate::{
    domain::{directory::DirectoryQuery, Permission},
    server::{app_state, bulk as bulkdb, require, require_in},
};

/// Ids sent per call when the selection is a list of rows.
pub const BATCH_SIZE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkOp {
    Deactivate,
    Reactivate,
    GiveRole(RoleName),
    TakeRole(RoleName),
    AddToGroup(i64),
    RemoveFromGroup(i64),
}

impl BulkOp {
    /// "Deactivate", "Give Admin"...: the button and the report say this.
    pub fn label(self) -> String {
        match self {
            BulkOp::Deactivate => "Deactivate".into(),
            BulkOp::Reactivate => "Reactivate".into(),
            BulkOp::GiveRole(role) => format!("Give {}", role.label()),
            BulkOp::TakeRole(role) => format!("Take {}", role.label()),
            BulkOp::AddToGroup(_) => "Add to group".into(),
            BulkOp::RemoveFromGroup(_) => "Remove from group".into(),
        }
    }

    #[cfg(feature = "ssr")]
    fn action(self) -> Permission {
        match self {
            BulkOp::Deactivate | BulkOp::Reactivate => Permission::ManageMembers,
            BulkOp::GiveRole(role) => crate::server::lifecycle::role_action(role, true),
            BulkOp::TakeRole(role) => crate::server::lifecycle::role_action(role, false),
            BulkOp::AddToGroup(_) | BulkOp::RemoveFromGroup(_) => {
                Permission::ManageGroupsAndProjects
            }
        }
    }
}

/// Whom the action is for: rows picked by hand, or every member matching
/// a Team-page view (walked page by page with the list's own cursor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BulkSelection {
    Rows(Vec<i64>),
    Matching {
        view: DirectoryParams,
        after: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub membership_id: i64,
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkStep {
    pub done: u32,
    pub skipped: Vec<Skipped>,
    /// For `Matching`: where the next call continues; None when finished.
    pub after: Option<String>,
}

/// One batch of a bulk action (`bulkdb::apply` decides each member).
#[server(prefix = "/api", endpoint = "bulk_members", input = Json)]
pub async fn bulk_members(op: BulkOp, selection: BulkSelection) -> Result<BulkStep, AppError> {
    let ctx = require(op.action()).await?;
    let state = app_state()?;
    let (ids, after) = match selection {
        BulkSelection::Rows(ids) => {
            if ids.len() > BATCH_SIZE {
                return Err(AppError::field(
                    "members",
                    format!("Send at most {BATCH_SIZE} members per call."),
                ));
            }
            let mut ids = ids;
            ids.sort_unstable();
            ids.dedup();
            (ids, None)
        }
        BulkSelection::Matching { view, after } => {
            let query = DirectoryQuery::parse(&view)?;
            let mut conn = state.pool.acquire().await?;
            bulkdb::matching_page(&mut conn, &ctx, &query, after.as_deref()).await?
        }
    };
    let mut tx = state.pool.begin().await?;
    let ctx = require_in(&mut tx, &ctx, op.action()).await?;
    let mut step = bulkdb::apply(&mut tx, &ctx, op, &ids).await?;
    tx.commit().await?;
    step.after = after;
    Ok(step)
}
