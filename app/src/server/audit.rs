//! Audit events, written in the same transaction as the change they record.

use serde_json::Value;
use sqlx::PgConnection;

use super::session::RequestMeta;
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
