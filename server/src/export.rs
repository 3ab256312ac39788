//! `GET /api/members.csv?<Team page view>`: the current filtered, sorted
//! member list as CSV, streamed row by row from one database cursor, so a
//! million rows never sit in memory at once.

use app::{
    domain::{directory::DirectoryParams, directory::DirectoryQuery, Action},
    error::AppError,
    server::{
        directory::{self, Listing, Scope},
        guard::authorize,
        session::{RequestMeta, SessionRow},
        AppState, Ctx,
    },
};
use axum::{
    body::{Body, Bytes},
    extract::{Query, Request},
    response::Response,
};
use futures_util::StreamExt;
use http::{header, HeaderValue};
use sqlx::Row;

use crate::middleware::error_response;

/// Rows buffered before a chunk is sent to the client.
const ROWS_PER_CHUNK: usize = 500;

pub async fn members_csv(state: AppState, request: Request) -> Response {
    match prepare(state, request).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

/// The guard of an export: the session the middleware loaded, the query
/// string parsed, and the member allowed `action`.
async fn authorized<P: serde::de::DeserializeOwned>(
    state: &AppState,
    request: Request,
    action: Action,
) -> Result<(Ctx, P, sqlx::pool::PoolConnection<sqlx::Postgres>), AppError> {
    // Only the head: a body is not Sync, so it may not be held across awaits.
    let (request, _) = request.into_parts();
    let session = request
        .extensions
        .get::<SessionRow>()
        .cloned()
        .ok_or(AppError::Unauthenticated)?;
    let meta = RequestMeta::from_parts(&request, &state.auth);
    let Query(params) = Query::<P>::try_from_uri(&request.uri)
        .map_err(|_| AppError::field("view", "The export link is malformed."))?;
    let mut conn = state.pool.acquire().await?;
    let ctx = authorize(&mut conn, session, meta, action).await?;
    Ok((ctx, params, conn))
}

async fn prepare(state: AppState, request: Request) -> Result<Response, AppError> {
    let (ctx, params, conn) =
        authorized::<DirectoryParams>(&state, request, Action::ViewTeam).await?;
    let query = DirectoryQuery::parse(&params)?;
    let scope = app::api::members::scope_of(&ctx);
    drop(conn);

    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let workspace_id = ctx.workspace_id;
    tokio::spawn(async move {
        if let Err(error) = stream_rows(&state, workspace_id, scope, &query, &sender).await {
            tracing::error!(?error, "members CSV export stopped");
            // The client sees a truncated download rather than a silent
            // success: the body ends with an error.
            let _ = sender
                .send(Err(std::io::Error::other("export failed")))
                .await;
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let filename = format!("members-{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    Ok(csv_download(Body::from_stream(body), &filename))
}

/// A CSV attachment that is never cached.
fn csv_download(body: Body, filename: &str) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Every cell of every exported CSV goes through this (header rows are
/// our own constants): whatever a member typed is shown as text.
use app::domain::spreadsheet_safe as cell;

async fn stream_rows(
    state: &AppState,
    workspace_id: i64,
    scope: Scope,
    query: &DirectoryQuery,
    sender: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    // One consistent snapshot for the whole file.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
    let csv_error = |error: csv::Error| {
        tracing::error!(?error, "CSV encoding failed");
        AppError::Internal
    };
    writer
        .write_record([
            "Name",
            "Email",
            "Roles",
            "Groups",
            "Status",
            "Kind",
            "Last active (UTC)",
            "Added (UTC)",
        ])
        .map_err(csv_error)?;
    let listing = Listing::prepare(&mut tx, workspace_id, scope, query).await?;
    let mut statement = directory::export_statement(&listing);
    let mut rows = statement.build().persistent(false).fetch(&mut *tx);
    let mut buffered = 0;
    while let Some(row) = rows.next().await {
        let row = row?;
        let mut roles = Vec::new();
        if row.try_get::<i16, _>("role_rank")? == 0 {
            roles.push("Owner");
        }
        if row.try_get::<bool, _>("is_admin")? {
            roles.push("Admin");
        }
        if row.try_get::<bool, _>("is_project_manager")? {
            roles.push("Project manager");
        }
        if row.try_get::<bool, _>("is_team_manager")? {
            roles.push("Team manager");
        }
        let time = |value: Option<chrono::DateTime<chrono::Utc>>| {
            value
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default()
        };
        writer
            .write_record([
                cell(&row.try_get::<String, _>("name")?),
                cell(&row.try_get::<String, _>("email")?),
                cell(&roles.join("; ")),
                cell(&row.try_get::<String, _>("groups")?),
                cell(&row.try_get::<String, _>("status")?),
                cell(&row.try_get::<String, _>("kind")?),
                cell(&time(row.try_get("last_active_at")?)),
                cell(&time(Some(row.try_get("created_at")?))),
            ])
            .map_err(csv_error)?;
        buffered += 1;
        if buffered == ROWS_PER_CHUNK {
            buffered = 0;
            // A fresh writer per chunk: csv::Writer only gives its buffer up
            // by value.
            let full = std::mem::replace(
                &mut writer,
                csv::Writer::from_writer(Vec::with_capacity(64 * 1024)),
            );
            let chunk = full.into_inner().map_err(|_| AppError::Internal)?;
            if sender.send(Ok(Bytes::from(chunk))).await.is_err() {
                // The client went away; stop reading.
                return Ok(());
            }
        }
    }
    drop(rows);
    writer.flush().map_err(|_| AppError::Internal)?;
    let rest = writer.into_inner().map_err(|_| AppError::Internal)?;
    if !rest.is_empty() {
        let _ = sender.send(Ok(Bytes::from(rest))).await;
    }
    tx.commit().await?;
    Ok(())
}

/// `GET /api/summary.csv?from&to&inactive&person`: the summary report as
/// CSV, every row (the page shows the first thousand). One row per member
/// ("Deleted user" last) and a total.
pub async fn summary_csv(state: AppState, request: Request) -> Response {
    match summary_file(state, request).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

async fn summary_file(state: AppState, request: Request) -> Result<Response, AppError> {
    use app::{
        api::reports::{summarise, SummaryParams},
        domain::time::{decimal_hours, hours_minutes},
    };
    let (ctx, params, mut conn) =
        authorized::<SummaryParams>(&state, request, Action::ViewReports).await?;
    let summary = summarise(&mut conn, &ctx, &params).await?;
    let csv_error = |error: csv::Error| {
        tracing::error!(?error, "CSV encoding failed");
        AppError::Internal
    };
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
    writer
        .write_record([
            "Member",
            "Email",
            "Status",
            "Entries",
            "Hours",
            "Duration (h:mm)",
        ])
        .map_err(csv_error)?;
    for row in &summary.rows {
        let status = match (row.membership_id, row.inactive) {
            (None, _) => "deleted",
            (Some(_), true) => "inactive",
            (Some(_), false) => "active",
        };
        writer
            .write_record([
                cell(&row.name),
                cell(row.email.as_deref().unwrap_or("")),
                cell(status),
                cell(&row.entries.to_string()),
                cell(&decimal_hours(row.seconds)),
                cell(&hours_minutes(row.seconds)),
            ])
            .map_err(csv_error)?;
    }
    writer
        .write_record([
            "Total".to_owned(),
            String::new(),
            String::new(),
            cell(&summary.total_entries.to_string()),
            cell(&decimal_hours(summary.total_seconds)),
            cell(&hours_minutes(summary.total_seconds)),
        ])
        .map_err(csv_error)?;
    let body = writer.into_inner().map_err(|_| AppError::Internal)?;
    let date = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_ascii_digit() || *c == '-')
            .take(10)
            .collect()
    };
    let filename = format!("summary-{}-to-{}.csv", date(&params.from), date(&params.to));
    Ok(csv_download(Body::from(body), &filename))
}

/// `GET /api/audit.csv?<audit page filters>`: every matching event, newest
/// first, read in keyset pages of 1,000.
pub async fn audit_csv(state: AppState, request: Request) -> Response {
    match audit_file(state, request).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

async fn audit_file(state: AppState, request: Request) -> Result<Response, AppError> {
    use app::api::audit::{page, AuditFilters};
    let (ctx, filters, mut conn) =
        authorized::<AuditFilters>(&state, request, Action::ViewAuditLog).await?;
    let csv_error = |error: csv::Error| {
        tracing::error!(?error, "CSV encoding failed");
        AppError::Internal
    };
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
    writer
        .write_record([
            "When",
            "Who",
            "Acting as",
            "Action",
            "To whom",
            "Change",
            "IP",
            "User agent",
        ])
        .map_err(csv_error)?;
    let mut before = None;
    loop {
        let (rows, _) = page(&mut conn, &ctx, &filters, before, 1000).await?;
        for row in &rows {
            writer
                .write_record([
                    cell(&row.at),
                    cell(&row.actor),
                    cell(row.acting_as.as_deref().unwrap_or("")),
                    cell(&row.action_label),
                    cell(&row.target),
                    cell(&row.details),
                    cell(&row.ip),
                    cell(&row.user_agent),
                ])
                .map_err(csv_error)?;
        }
        match rows.last() {
            Some(last) if rows.len() == 1000 => before = Some(last.id),
            _ => break,
        }
    }
    let body = writer.into_inner().map_err(|_| AppError::Internal)?;
    let filename = format!("audit-{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    Ok(csv_download(Body::from(body), &filename))
}
