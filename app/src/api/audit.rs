//! The audit log page: who did what to whom, filtered by actor, target,
//! action and date, newest first, paged by keyset (the event id).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{audit, time::DateRange, Permission},
    server::{app_state, directory, require, time as timedb, Ctx},
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

/// One page of events older than `before`, for the page and the export.
#[cfg(feature = "ssr")]
pub async fn page(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    filters: &AuditFilters,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<AuditRow>, String), AppError> {
    let zone = timedb::member_zone(conn, ctx.workspace_id, ctx.membership_id).await?;
    let action = filters.action.trim();
    if !action.is_empty() && !audit::is_known_action(action) {
        return Err(AppError::field("action", "Choose an action from the list."));
    }
    let (from, to) = if filters.from.trim().is_empty() && filters.to.trim().is_empty() {
        (None, None)
    } else {
        let range = DateRange::parse(&filters.from, &filters.to)?;
        (
            Some(timedb::day_start(zone.tz, range.first())),
            Some(timedb::day_start(
                zone.tz,
                range.last() + chrono::Duration::days(1),
            )),
        )
    };
    // PostgreSQL text cannot hold NUL: refuse control characters here
    // rather than fail in the query.
    for (field, text) in [("actor", &filters.actor), ("target", &filters.target)] {
        if text.chars().any(char::is_control) {
            return Err(AppError::field(
                field,
                "Search text cannot contain control characters.",
            ));
        }
    }
    let pattern = |text: &str| -> String {
        let text: String = text.trim().chars().take(100).collect();
        if text.is_empty() {
            return String::new();
        }
        directory::like_anywhere(&text)
    };
    let owner_view = ctx.positions.owner;
    let hidden_prefix = format!("{}%", audit::OWNER_ONLY_PREFIX.replace('_', "\\_"));
    let rows = sqlx::query!(
        r#"SELECT e.id, e.occurred_at, e.action, e.details, e.ip, e.user_agent,
                  coalesce(actor.display_name || ' <' || actor.email || '>', 'System') AS "actor!",
                  acting.display_name || ' <' || acting.email || '>' AS acting_as,
                  coalesce(
                      teamroom_member_name(tm, ta) || coalesce(' <' || coalesce(ta.email, tm.invited_email) || '>', ''),
                      e.details -> 'before' ->> 'name',
                      e.details ->> 'name',
                      '') AS "target!"
             FROM audit_events e
             LEFT JOIN accounts actor ON actor.id = e.actor_account_id
             LEFT JOIN accounts acting ON acting.id = e.acting_as_account_id
             LEFT JOIN memberships tm ON tm.workspace_id = e.workspace_id AND tm.id = e.target_membership_id
             LEFT JOIN accounts ta ON ta.id = coalesce(e.target_account_id, tm.account_id)
            WHERE e.workspace_id = $1
              AND ($2::bigint IS NULL OR e.id < $2)
              AND ($3 = '' OR e.action = $3)
              AND ($4::timestamptz IS NULL OR e.occurred_at >= $4)
              AND ($5::timestamptz IS NULL OR e.occurred_at < $5)
              AND ($6 = '' OR teamroom_fold(coalesce(actor.display_name, '') || ' ' || coalesce(actor.email, ''))
                              LIKE teamroom_fold($6))
              AND ($7 = '' OR teamroom_fold(concat_ws(' ', tm.display_name, ta.display_name, ta.email, tm.invited_email,
                                                 e.details -> 'before' ->> 'name', e.details -> 'before' ->> 'email'))
                              LIKE teamroom_fold($7))
              AND ($8 OR e.action NOT LIKE $9)
            ORDER BY e.id DESC
            LIMIT $10"#,
        ctx.workspace_id,
        before,
        action,
        from,
        to,
        pattern(&filters.actor),
        pattern(&filters.target),
        owner_view,
        hidden_prefix,
        limit,
    )
    .fetch_all(&mut *conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|row| AuditRow {
            id: row.id,
            at: row
                .occurred_at
                .with_timezone(&zone.tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            actor: row.actor,
            acting_as: row.acting_as,
            action_label: audit::action_label(&row.action),
            action: row.action,
            target: row.target,
            details: if row.details == serde_json::json!({}) {
                String::new()
            } else {
                row.details.to_string()
            },
            ip: row.ip.unwrap_or_default(),
            user_agent: row.user_agent.unwrap_or_default(),
        })
        .collect();
    Ok((rows, zone.tz.name().to_owned()))
}
