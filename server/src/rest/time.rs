//! `/api/v1/time-entries`, `/api/v1/me/timer/stop` and
//! `/api/v1/reports/summary`: tracked time, through the Time page's and
//! the report's rules.

use app::{
    api::reports::{SummaryParams, ROWS_SHOWN},
    domain::Permission,
    error::AppError,
    server::{
        accounts_tab::stop_timer_of,
        guard::{MyselfOr, Subject},
        reports, time as timedb, AppState,
    },
};
use axum::{extract::State, response::Response};
use chrono::{DateTime, Duration, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{bad_request, date_range, ok, refused, ApiError, ApiPath, ApiQuery, ApiResult, Caller};

/// Most entries one page may ask for.
const MAX_LIMIT: i64 = 200;

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// Whose entries; the key's own member when left out. Someone else's
    /// needs the report permission (Owners, Admins, their managers).
    #[param(minimum = 1)]
    pub member_id: Option<i64>,
    /// First day (inclusive), in the member's time zone.
    #[param(format = Date, value_type = String, pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub from: String,
    /// Last day (inclusive), at most three years after `from` (else 409).
    #[param(format = Date, value_type = String, pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub to: String,
    /// Entries per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `cursor` of the previous page's `next` link (409 when it is not one).
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimeEntry {
    pub id: i64,
    pub member_id: i64,
    pub description: String,
    pub project_id: Option<i64>,
    pub project: Option<String>,
    pub started_at: DateTime<Utc>,
    /// Null while the timer runs.
    pub ended_at: Option<DateTime<Utc>>,
    /// `timer`, `manual` or `kiosk`.
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimeEntryList {
    pub data: Vec<TimeEntry>,
    /// The next page's URL; null on the last page.
    pub next: Option<String>,
    /// The zone `from` and `to` were read in.
    pub time_zone: String,
}

/// `<microseconds since 1970>_<id>` of the last entry of a page.
fn parse_cursor(text: &str) -> Option<(DateTime<Utc>, i64)> {
    let (at, id) = text.split_once('_')?;
    let at = DateTime::<Utc>::from_timestamp_micros(at.parse().ok()?)?;
    Some((at, id.parse().ok()?))
}

/// A member's entries that start in a date range, oldest first.
#[utoipa::path(get, path = "/api/v1/time-entries", tag = "time", params(EntryQuery),
    responses((status = 200, description = "One page of entries", body = TimeEntryList)))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EntryQuery>,
) -> ApiResult<Response> {
    let (
        Subject {
            ctx,
            membership_id: member,
            ..
        },
        mut conn,
    ) = caller
        .subject(&state, query.member_id, MyselfOr::TIME)
        .await?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad_request(
            "limit",
            format!("Ask for 1 to {MAX_LIMIT} entries."),
        ));
    }
    let after = match query.cursor.as_deref() {
        None => None,
        Some(text) => Some(parse_cursor(text).ok_or_else(|| {
            let mut errors = app::error::FieldErrors::default();
            errors.add("cursor", "This list position is not valid. Start again.");
            ApiError::Refused(errors)
        })?),
    };
    let range = date_range(Some(&query.from), Some(&query.to))?
        .ok_or_else(|| AppError::bug("a range with both ends came back empty"))?;
    // NotFound for a member of another workspace.
    let zone = timedb::member_zone(&mut conn, ctx.workspace_id, member).await?;
    let bounds = (
        timedb::day_start(zone.tz, range.first()),
        timedb::day_start(zone.tz, range.last() + Duration::days(1)),
    );
    let rows = timedb::member_entries(
        &mut conn,
        ctx.workspace_id,
        member,
        bounds,
        after,
        limit + 1,
    )
    .await?;
    let more = rows.len() as i64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let next = rows.last().filter(|_| more).map(|last| {
        let mut pairs = vec![
            ("from", query.from.clone()),
            ("to", query.to.clone()),
            ("limit", limit.to_string()),
            (
                "cursor",
                format!("{}_{}", last.started_at.timestamp_micros(), last.id),
            ),
        ];
        if let Some(id) = query.member_id {
            pairs.insert(0, ("member_id", id.to_string()));
        }
        format!(
            "/api/v1/time-entries?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    });
    Ok(ok(
        StatusCode::OK,
        &TimeEntryList {
            data: rows
                .into_iter()
                .map(|e| TimeEntry {
                    id: e.id,
                    member_id: e.membership_id,
                    description: e.description,
                    project_id: e.project_id,
                    project: e.project,
                    started_at: e.started_at,
                    ended_at: e.ended_at,
                    source: e.source,
                })
                .collect(),
            next,
            time_zone: zone.tz.name().to_owned(),
        },
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoppedTimer {
    /// The entry the timer was saved as.
    pub entry_id: i64,
}

/// Stops the key owner's running timer and saves the entry (409 when none runs).
#[utoipa::path(post, path = "/api/v1/me/timer/stop", tag = "time",
    responses((status = 200, description = "Stopped", body = StoppedTimer)))]
pub async fn stop_my_timer(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let (ctx, mut conn) = caller.ctx(&state, Permission::TrackOwnTime).await?;
    let entry_id = timedb::stop_own(&mut conn, &ctx).await?;
    Ok(ok(StatusCode::OK, &StoppedTimer { entry_id }))
}

/// A member's timer the Owner stopped, in the member's own zone.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoppedMemberTimer {
    /// The entry the timer was saved as.
    pub entry_id: i64,
    /// Local start, `2026-11-30T09:00`.
    pub start: String,
    /// Local end (now).
    pub end: String,
    pub time_zone: String,
}

/// Stops a member's running timer and saves the entry (the Accounts tab's
/// "Stop timer": the Owner's key, Enterprise plan). Their open pages show
/// it stopped at once. 409 when no timer runs; 404 for a limited member or
/// one of another workspace.
#[utoipa::path(post, path = "/api/v1/members/{id}/timer/stop", tag = "time",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 200, description = "Stopped", body = StoppedMemberTimer)))]
pub async fn stop_member_timer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (ctx, conn) = caller.ctx(&state, Permission::AccountsTab).await?;
    drop(conn);
    let stopped = stop_timer_of(&state.pool, &ctx, id).await?;
    Ok(ok(
        StatusCode::OK,
        &StoppedMemberTimer {
            entry_id: stopped.entry_id,
            start: stopped.start,
            end: stopped.end,
            time_zone: stopped.time_zone,
        },
    ))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// First day (inclusive), in the key owner's zone; with `to`, or neither
    /// for this month so far.
    #[param(format = Date, value_type = Option<String>, pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub from: Option<String>,
    /// Last day (inclusive), at most three years after `from` (else 409).
    #[param(format = Date, value_type = Option<String>, pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub to: Option<String>,
    /// Include inactive members.
    pub inactive: Option<bool>,
    /// Part of a member's name or email.
    #[param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub person: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryRow {
    /// Null for "Deleted user".
    pub member_id: Option<i64>,
    pub name: String,
    pub email: Option<String>,
    pub inactive: bool,
    pub entries: i64,
    pub seconds: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    /// At most 1000 rows; `row_count` says how many there are in all.
    pub rows: Vec<SummaryRow>,
    pub row_count: usize,
    pub total_seconds: i64,
    pub total_entries: i64,
    /// What a manager is seeing, e.g. "your team".
    pub scope_note: Option<String>,
    pub from: String,
    pub to: String,
}

/// Hours per member over a date range (the Reports page).
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", params(SummaryQuery),
    responses((status = 200, description = "The summary", body = Summary)))]
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SummaryQuery>,
) -> ApiResult<Response> {
    let (ctx, mut conn) = caller.ctx(&state, Permission::ViewReports).await?;
    let person = query.person.unwrap_or_default();
    if person.chars().count() > 100 {
        return Err(bad_request("person", "Search for at most 100 characters."));
    }
    if person.chars().any(char::is_control) {
        return Err(bad_request(
            "person",
            "Search text cannot contain control characters.",
        ));
    }
    date_range(query.from.as_deref(), query.to.as_deref())?;
    let (from, to) = (query.from.unwrap_or_default(), query.to.unwrap_or_default());
    let params = SummaryParams {
        from,
        to,
        inactive: query.inactive.unwrap_or(false),
        person,
    };
    let mut summary = reports::summarise(&mut conn, &ctx, &params)
        .await
        .map_err(refused)?;
    summary.rows.truncate(ROWS_SHOWN);
    Ok(ok(
        StatusCode::OK,
        &Summary {
            rows: summary
                .rows
                .into_iter()
                .map(|r| SummaryRow {
                    member_id: r.membership_id,
                    name: r.name,
                    email: r.email,
                    inactive: r.inactive,
                    entries: r.entries,
                    seconds: r.seconds,
                })
                .collect(),
            row_count: summary.row_count,
            total_seconds: summary.total_seconds,
            total_entries: summary.total_entries,
            scope_note: summary.scope_note,
            from: summary.from,
            to: summary.to,
        },
    ))
}
