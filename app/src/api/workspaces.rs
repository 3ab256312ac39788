//! Creating and switching workspaces.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::WorkspaceName,
    server::{app_state, audit, db, require_account, session, throttle},
};

#[server(prefix = "/api", endpoint = "create_workspace")]
pub async fn create_workspace(name: String) -> Result<(), AppError> {
    let ctx = require_account().await?;
    let name = WorkspaceName::parse(&name).map_err(|message| AppError::field("name", message))?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    // Counted first, in this transaction: a refusal creates nothing and
    // counts nothing. Each workspace brings its own invitation allowance,
    // so this also bounds how far an account can spread its mail.
    let limit = state.auth.workspaces_per_account_day;
    let counted = throttle::WORKSPACES_ACCOUNT_DAY
        .limited(limit)
        .count(&mut tx, &ctx.account_id.to_string())
        .await?;
    if counted.hits > i64::from(limit) {
        return Err(AppError::field(
            "name",
            format!(
                "You can create at most {limit} workspaces a day. Try again tomorrow, \
                 or ask an Owner to invite you to an existing one."
            ),
        ));
    }
    let (workspace_id, membership_id) =
        db::insert_workspace(&mut tx, ctx.account_id, &name).await?;
    session::set_active_workspace(&mut tx, &ctx.session.token_hash, Some(workspace_id)).await?;
    ctx.record(
        &mut tx,
        audit::Event::new(Some(workspace_id), audit::AuditAction::WorkspaceCreated)
            .target_membership(membership_id)
            .details(serde_json::json!({ "name": name.as_str() })),
    )
    .await?;
    tx.commit().await?;
    leptos_axum::redirect("/team");
    Ok(())
}

#[server(prefix = "/api", endpoint = "switch_workspace")]
pub async fn switch_workspace(workspace_id: i64) -> Result<(), AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    // Only a workspace where this account is an active member; anything else
    // is NotFound so ids of other workspaces reveal nothing.
    let workspaces = db::active_workspaces(&mut conn, ctx.account_id).await?;
    if !workspaces.iter().any(|w| w.id == workspace_id) {
        return Err(AppError::NotFound);
    }
    session::set_active_workspace(&mut conn, &ctx.session.token_hash, Some(workspace_id)).await?;
    Ok(())
}
