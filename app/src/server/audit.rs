//! Audit events, written in the same transaction as the change they record.

use serde_json::Value;
use sqlx::PgConnection;

use super::session::RequestMeta;
use crate::domain::audit as vocabulary;
pub use crate::domain::audit::AuditAction;
use crate::error::AppError;

/// Who did it, and from where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account_id: i64,
    /// The account being impersonated, when an owner acts as someone.
    pub acting_as: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    pub fn new(account_id: i64, acting_as: Option<i64>, meta: &RequestMeta) -> Self {
        Self {
            account_id,
            acting_as,
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
        }
    }
}

/// What happened, to whom.
#[derive(Debug, Clone)]
pub struct Event {
    pub workspace_id: Option<i64>,
    pub action: AuditAction,
    pub target_account_id: Option<i64>,
    pub target_membership_id: Option<i64>,
    pub details: Value,
}

impl Event {
    pub fn new(workspace_id: Option<i64>, action: AuditAction) -> Self {
        Self {
            workspace_id,
            action,
            target_account_id: None,
            target_membership_id: None,
            details: Value::Object(Default::default()),
        }
    }

    pub fn target_account(mut self, account_id: i64) -> Self {
        self.target_account_id = Some(account_id);
        self
    }

    pub fn target_membership(mut self, membership_id: i64) -> Self {
        self.target_membership_id = Some(membership_id);
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

pub async fn record(conn: &mut PgConnection, actor: &Actor, event: Event) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO audit_events (workspace_id, actor_account_id, acting_as_account_id, action,
                                   target_account_id, target_membership_id, details, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        event.workspace_id,
        actor.account_id,
        actor.acting_as,
        event.action.code(),
        event.target_account_id,
        event.target_membership_id,
        event.details,
        actor.ip.as_deref(),
        actor.user_agent.as_deref(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One event per member for a batch change (an invitation of many people),
/// written in one statement.
pub async fn record_many(
    conn: &mut PgConnection,
    actor: &Actor,
    workspace_id: i64,
    action: AuditAction,
    membership_ids: &[i64],
    details: Value,
) -> Result<(), AppError> {
    if membership_ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO audit_events (workspace_id, actor_account_id, acting_as_account_id, action,
                                   target_membership_id, details, ip, user_agent)
         SELECT $1, $2, $3, $4, m, $6, $7, $8 FROM unnest($5::bigint[]) AS m",
        workspace_id,
        actor.account_id,
        actor.acting_as,
        action.code(),
        membership_ids,
        details,
        actor.ip.as_deref(),
        actor.user_agent.as_deref(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One page of the workspace's audit log older than `before`, filtered,
/// for the page, its CSV export and the REST API.
pub async fn page(
    conn: &mut sqlx::PgConnection,
    ctx: &super::Ctx,
    filters: &crate::api::audit::AuditFilters,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<crate::api::audit::AuditRow>, String), AppError> {
    let zone = super::time::member_zone(conn, ctx.workspace_id, ctx.membership_id).await?;
    let action = filters.action.trim();
    if !action.is_empty() && !vocabulary::is_known_action(action) {
        return Err(AppError::field("action", "Choose an action from the list."));
    }
    let (from, to) = if filters.from.trim().is_empty() && filters.to.trim().is_empty() {
        (None, None)
    } else {
        let range = crate::domain::time::DateRange::parse(&filters.from, &filters.to)?;
        (
            Some(super::time::day_start(zone.tz, range.first())),
            Some(super::time::day_start(
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
        super::directory::like_anywhere(&text)
    };
    let owner_view = ctx.positions.owner;
    let hidden_prefix = format!("{}%", vocabulary::OWNER_ONLY_PREFIX.replace('_', "\\_"));
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
        .map(|row| crate::api::audit::AuditRow {
            id: row.id,
            at: row
                .occurred_at
                .with_timezone(&zone.tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            actor: row.actor,
            acting_as: row.acting_as,
            action_label: vocabulary::action_label(&row.action),
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
