//! `/api/v1/audit-events`: the audit log page's filters and keyset
//! (`app::server::audit::page`).

use app::{
    api::audit::AuditFilters,
    domain::{audit::is_known_action, Permission},
    server::{audit as log, AppState},
};
use axum::{extract::State, response::Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{bad_request, date_range, ok, refused, ApiQuery, ApiResult, Caller};

const MAX_LIMIT: i64 = 200;

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Part of the actor's name or email.
    #[param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub actor: Option<String>,
    /// Part of the target's name or email.
    #[param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub target: Option<String>,
    /// An action code, e.g. `member.deactivated` (the list is in the schema).
    pub action: Option<String>,
    /// First day (inclusive) in the key owner's zone; with `to`.
    #[param(format = Date, value_type = Option<String>, pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub from: Option<String>,
    /// Last day (inclusive); with `from`.
    #[param(format = Date, value_type = Option<String>, pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub to: Option<String>,
    /// Events older than this id (the previous page's last id).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Events per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    /// `2026-11-23 09:12:05` in `time_zone`.
    pub at: String,
    pub actor: String,
    /// The member an Owner was viewing as ("Log in as user").
    pub acting_as: Option<String>,
    pub action: String,
    pub action_label: String,
    pub target: String,
    /// Before and after, as compact JSON text (empty when none).
    pub details: String,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub data: Vec<AuditEvent>,
    /// The next page's URL; null on the last page.
    pub next: Option<String>,
    pub time_zone: String,
}

/// Audit events, newest first (Owners and Admins).
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "One page of events", body = AuditList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let (ctx, mut conn) = caller.ctx(&state, Permission::ViewAuditLog).await?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad_request(
            "limit",
            format!("Ask for 1 to {MAX_LIMIT} events."),
        ));
    }
    if query.action.as_deref().is_some_and(|a| !is_known_action(a)) {
        return Err(bad_request("action", "Choose an action from the list."));
    }
    for (field, value) in [("actor", &query.actor), ("target", &query.target)] {
        if value.as_deref().is_some_and(|v| v.chars().count() > 100) {
            return Err(bad_request(field, "Use at most 100 characters."));
        }
        if value
            .as_deref()
            .is_some_and(|v| v.chars().any(char::is_control))
        {
            return Err(bad_request(
                field,
                "Search text cannot contain control characters.",
            ));
        }
    }
    if query.before.is_some_and(|id| id < 1) {
        return Err(bad_request(
            "before",
            "Use an event id from a previous page.",
        ));
    }
    date_range(query.from.as_deref(), query.to.as_deref())?;
    let filters = AuditFilters {
        actor: query.actor.clone().unwrap_or_default(),
        target: query.target.clone().unwrap_or_default(),
        action: query.action.clone().unwrap_or_default(),
        from: query.from.clone().unwrap_or_default(),
        to: query.to.clone().unwrap_or_default(),
    };
    let (rows, time_zone) = log::page(&mut conn, &ctx, &filters, query.before, limit)
        .await
        .map_err(refused)?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten()
        .map(|last| {
            let mut pairs: Vec<(&str, String)> = [
                ("actor", &query.actor),
                ("target", &query.target),
                ("action", &query.action),
                ("from", &query.from),
                ("to", &query.to),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect();
            pairs.push(("before", last.to_string()));
            pairs.push(("limit", limit.to_string()));
            format!(
                "/api/v1/audit-events?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            )
        });
    Ok(ok(
        StatusCode::OK,
        &AuditList {
            data: rows
                .into_iter()
                .map(|r| AuditEvent {
                    id: r.id,
                    at: r.at,
                    actor: r.actor,
                    acting_as: r.acting_as,
                    action: r.action,
                    action_label: r.action_label,
                    target: r.target,
                    details: r.details,
                    ip: r.ip,
                    user_agent: r.user_agent,
                })
                .collect(),
            next,
            time_zone,
        },
    ))
}
