//! `GET /api/members.csv?<Team page view>`: the current filtered, sorted
//! member list as CSV, streamed row by row from one database cursor, so a
//! million rows never sit in memory at once.

use app::{
    domain::{directory::DirectoryParams, directory::DirectoryQuery, Permission},
    error::AppError,
    server::{
        directory::{self, Listing, Scope},
        guard::authorize,
        AppState, Ctx,
    },
};
use axum::{
    body::{Body, Bytes},
    extract::Query,
    response::Response,
};
use futures_util::StreamExt;
use http::{header, HeaderValue, Uri};
use sqlx::Row;
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::sync::{mpsc, OwnedSemaphorePermit};

use crate::middleware::{busy_response, error_response, SignedIn};

/// Rows buffered before a chunk is sent to the client.
const ROWS_PER_CHUNK: usize = 500;

pub async fn members_csv(state: AppState, signed_in: SignedIn, uri: Uri) -> Response {
    match prepare(state, signed_in, uri).await {
        Ok(response) => response,
        Err(refused) => refusal(refused),
    }
}

/// The guard of an export: the signed-in session, the query string
/// parsed, and the member allowed `action`.
async fn authorized<P: serde::de::DeserializeOwned>(
    state: &AppState,
    signed_in: SignedIn,
    uri: &Uri,
    action: Permission,
) -> Result<(Ctx, P, sqlx::pool::PoolConnection<sqlx::Postgres>), AppError> {
    let Query(params) = Query::<P>::try_from_uri(uri)
        .map_err(|_| AppError::field("view", "The export link is malformed."))?;
    let mut conn = state.pool.acquire().await?;
    let ctx = authorize(&mut conn, signed_in.session, signed_in.meta, action).await?;
    Ok((ctx, params, conn))
}

async fn prepare(state: AppState, signed_in: SignedIn, uri: Uri) -> Result<Response, Refused> {
    let (ctx, params, conn) =
        authorized::<DirectoryParams>(&state, signed_in, &uri, Permission::ViewTeam).await?;
    let slot = export_slot(&state)?;
    let query = DirectoryQuery::parse(&params).map_err(AppError::Validation)?;
    let scope = app::server::directory::Scope::of(&ctx);
    drop(conn);

    let workspace_id = ctx.workspace_id;
    let producer = state.clone();
    let body = stream_body(&state, slot, "members", move |chunks| async move {
        stream_rows(&producer, workspace_id, scope, &query, &chunks).await
    });
    let filename = format!("members-{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    Ok(csv_download(body, &filename))
}

/// Why an export did not start.
pub enum Refused {
    App(AppError),
    /// Every export slot is taken.
    Busy,
}

impl From<AppError> for Refused {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

impl From<sqlx::Error> for Refused {
    fn from(error: sqlx::Error) -> Self {
        Self::App(error.into())
    }
}

fn refusal(refused: Refused) -> Response {
    match refused {
        Refused::App(error) => error_response(error),
        Refused::Busy => busy_response(
            "Too many exports are running right now. Try again in a minute.",
            30,
        ),
    }
}

/// One of the few export slots, taken after the permission check (so
/// someone who may not export cannot hold them) and before any work: each
/// running export holds a database connection, so past the cap the answer
/// is a quick 503 rather than a pool drained for everyone else.
fn export_slot(state: &AppState) -> Result<OwnedSemaphorePermit, Refused> {
    state
        .export_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| Refused::Busy)
}

/// Where an export writes its chunks. A send that waits longer than the
/// export send timeout means the client stopped reading: the export ends
/// there, its transaction is rolled back and its connection goes back to
/// the pool (the client sees a truncated file).
pub struct Chunks {
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
    deadline: Duration,
    /// Set when a chunk could not be handed over: the file is incomplete.
    cut: Arc<AtomicBool>,
}

impl Chunks {
    /// False when the client went away or stalled past the deadline: stop.
    pub async fn send(&self, chunk: Vec<u8>) -> bool {
        match tokio::time::timeout(self.deadline, self.sender.send(Ok(Bytes::from(chunk)))).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) => {
                self.cut.store(true, Ordering::SeqCst);
                false
            }
            Err(_) => {
                self.cut.store(true, Ordering::SeqCst);
                tracing::warn!(
                    deadline = ?self.deadline,
                    "CSV export dropped: the client stopped reading"
                );
                false
            }
        }
    }
}

/// Runs `produce` on its own task, holding `slot` until it ends, and
/// streams what it sends as the response body. A file that did not run to
/// its end (an error, or a reader that stalled past the deadline) ends the
/// body with an error, so the client sees a failed download rather than a
/// shorter file that looks whole.
/// The longest one export may run, whatever the reader's pace: a 1,000,000
/// member file takes well under a minute to a reader that keeps up.
const EXPORT_MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(600);

fn stream_body<F, Fut>(
    state: &AppState,
    slot: OwnedSemaphorePermit,
    what: &'static str,
    produce: F,
) -> Body
where
    F: FnOnce(Chunks) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), AppError>> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let deadline = state.auth.export_send_timeout;
    let cut = Arc::new(AtomicBool::new(false));
    let complete = Arc::new(AtomicBool::new(false));
    let chunks = Chunks {
        sender: sender.clone(),
        deadline,
        cut: cut.clone(),
    };
    let finished = complete.clone();
    tokio::spawn(async move {
        let _slot = slot;
        // A reader taking one chunk just inside each send timeout would
        // otherwise hold the slot (and a connection) for hours.
        let result = tokio::time::timeout(EXPORT_MAX_DURATION, produce(chunks))
            .await
            .unwrap_or_else(|_| {
                tracing::warn!(what, "CSV export took longer than its limit");
                Err(AppError::Internal)
            });
        if result.is_ok() && !cut.load(Ordering::SeqCst) {
            finished.store(true, Ordering::SeqCst);
        }
        if let Err(error) = result {
            tracing::error!(?error, what, "CSV export stopped");
            // The client sees a truncated download rather than a silent
            // success: the body ends with an error.
            let _ = tokio::time::timeout(
                deadline,
                sender.send(Err(std::io::Error::other("export failed"))),
            )
            .await;
        }
    });
    let body = futures_util::stream::unfold(Some((receiver, complete)), |state| async move {
        let (mut receiver, complete) = state?;
        match receiver.recv().await {
            Some(chunk) => Some((chunk, Some((receiver, complete)))),
            // The producer is gone: either the file is whole, or the
            // body ends with an error (and then ends).
            None if complete.load(Ordering::SeqCst) => None,
            None => Some((Err(std::io::Error::other("export cut short")), None)),
        }
    });
    Body::from_stream(body)
}

/// Opens the export's transaction: one consistent, read-only snapshot for
/// the whole file, allowed to run longer than a request's statements (a
/// million rows to a slow reader), but not forever.
async fn export_transaction(
    state: &AppState,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, AppError> {
    let mut tx = state.pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SET LOCAL statement_timeout = '15min'")
        .execute(&mut *tx)
        .await?;
    // Between two pages the transaction waits on the reader, for up to the
    // send timeout: the idle-in-transaction limit must not end it first.
    let idle = state.auth.export_send_timeout.as_millis() + 10_000;
    sqlx::query("SELECT set_config('idle_in_transaction_session_timeout', $1, true)")
        .bind(idle.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(tx)
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
    chunks: &Chunks,
) -> Result<(), AppError> {
    let mut tx = export_transaction(state).await?;
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
            let chunk = full
                .into_inner()
                .map_err(AppError::internal("flushing a CSV chunk"))?;
            if !chunks.send(chunk).await {
                // The client went away or stalled; stop reading.
                return Ok(());
            }
        }
    }
    drop(rows);
    writer
        .flush()
        .map_err(AppError::internal("flushing a CSV export"))?;
    let rest = writer
        .into_inner()
        .map_err(AppError::internal("finishing a CSV export"))?;
    if !rest.is_empty() && !chunks.send(rest).await {
        return Ok(());
    }
    tx.commit().await?;
    Ok(())
}

/// `GET /api/summary.csv?from&to&inactive&person`: the summary report as
/// CSV, every row (the page shows the first thousand). One row per member
/// ("Deleted user" last) and a total.
pub async fn summary_csv(state: AppState, signed_in: SignedIn, uri: Uri) -> Response {
    match summary_file(state, signed_in, uri).await {
        Ok(response) => response,
        Err(refused) => refusal(refused),
    }
}

async fn summary_file(state: AppState, signed_in: SignedIn, uri: Uri) -> Result<Response, Refused> {
    use app::{
        api::reports::SummaryParams,
        domain::time::{decimal_hours, hours_minutes},
        server::reports::summarise,
    };
    // Held while the report is computed (one row per member, in memory).
    let (ctx, params, mut conn) =
        authorized::<SummaryParams>(&state, signed_in, &uri, Permission::ViewReports).await?;
    let _slot = export_slot(&state)?;
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
    let body = writer
        .into_inner()
        .map_err(AppError::internal("finishing a CSV export"))?;
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
/// first, read in keyset pages of 1,000 inside one snapshot and streamed a
/// page at a time, like the members file: memory stays flat however long
/// the log is.
pub async fn audit_csv(state: AppState, signed_in: SignedIn, uri: Uri) -> Response {
    match audit_file(state, signed_in, uri).await {
        Ok(response) => response,
        Err(refused) => refusal(refused),
    }
}

/// Audit events per page (and per chunk sent).
const AUDIT_PAGE: i64 = 1000;

async fn audit_file(state: AppState, signed_in: SignedIn, uri: Uri) -> Result<Response, Refused> {
    use app::{api::audit::AuditFilters, server::audit::page};
    let (ctx, filters, mut conn) =
        authorized::<AuditFilters>(&state, signed_in, &uri, Permission::ViewAuditLog).await?;
    let slot = export_slot(&state)?;
    // The filters are checked now, so a bad one is a 400, not a cut file.
    page(&mut conn, &ctx, &filters, None, 1).await?;
    drop(conn);
    let producer = state.clone();
    let body = stream_body(&state, slot, "audit", move |chunks| async move {
        let mut tx = export_transaction(&producer).await?;
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
            let (rows, _) = page(&mut tx, &ctx, &filters, before, AUDIT_PAGE).await?;
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
            let full = std::mem::replace(
                &mut writer,
                csv::Writer::from_writer(Vec::with_capacity(64 * 1024)),
            );
            let chunk = full
                .into_inner()
                .map_err(AppError::internal("flushing a CSV chunk"))?;
            if !chunk.is_empty() && !chunks.send(chunk).await {
                return Ok(());
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == AUDIT_PAGE => before = Some(last.id),
                _ => break,
            }
        }
        tx.commit().await?;
        Ok(())
    });
    let filename = format!("audit-{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    Ok(csv_download(body, &filename))
}
