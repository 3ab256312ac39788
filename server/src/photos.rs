//! Member photos. `POST /api/photo?member=ID` takes the image bytes as the
//! body (no member: one's own); `DELETE` the same URL removes it;
//! `GET /api/photos/{account}.png` serves it to people who share a
//! workspace with its owner. Uploads are checked by their content, not
//! their name or header, and re-encoded to a 256 px PNG, so nothing a
//! person uploaded is ever served back as is.

use std::io::Cursor;

use app::{
    error::AppError,
    server::{
        audit,
        guard::{authorize_subject, MyselfOr, Subject},
        AppState,
    },
};
use axum::{
    body::{to_bytes, Body},
    extract::{Path, Query, Request},
    response::Response,
};
use http::{header, HeaderValue, Method};
use image::{imageops::FilterType, ImageFormat, ImageReader, Limits};

use crate::middleware::{busy_response, error_response, SignedIn};

/// Largest upload accepted.
pub const MAX_PHOTO_BYTES: usize = 2 * 1024 * 1024;
/// Largest side of an image that is decoded at all.
pub const MAX_PHOTO_SIDE: u32 = 4_000;
/// Memory one decode may allocate.
pub const MAX_DECODE_BYTES: u64 = 64 * 1024 * 1024;
/// Side of the stored square photo.
const PHOTO_SIDE: u32 = 256;

#[derive(serde::Deserialize)]
pub struct PhotoTarget {
    member: Option<i64>,
}

pub async fn upload_or_remove(state: AppState, signed_in: SignedIn, request: Request) -> Response {
    match change(state, signed_in, request).await {
        Ok(()) => Response::new(Body::from("{}")),
        Err(Refused::App(error)) => error_response(error),
        Err(Refused::Busy) => busy_response(
            "Many photos are being processed right now. Try again in a moment.",
            5,
        ),
    }
}

enum Refused {
    App(AppError),
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

/// The account whose photo the request changes, after the guard: one's
/// own (`guard::MyselfOr::PROFILE`). A photo belongs to the account, which
/// may be in other workspaces too, so nobody else changes it: not an Owner
/// or Admin of one of them, nor an Owner in "Log in as user".
async fn target_account(
    state: &AppState,
    signed_in: SignedIn,
    member: Option<i64>,
) -> Result<(app::server::Ctx, i64, i64), AppError> {
    let mut conn = state.pool.acquire().await?;
    let Subject {
        ctx, membership_id, ..
    } = authorize_subject(
        &mut conn,
        signed_in.session,
        signed_in.meta,
        member,
        MyselfOr::PROFILE,
    )
    .await?;
    let account: Option<Option<i64>> = sqlx::query_scalar!(
        "SELECT account_id FROM memberships WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let account = account.ok_or(AppError::NotFound)?.ok_or_else(|| {
        AppError::Conflict("Limited members have no account, so no photo.".into())
    })?;
    if account != ctx.actor_account_id || ctx.subject_account_id != ctx.actor_account_id {
        return Err(AppError::Forbidden);
    }
    Ok((ctx, membership_id, account))
}

/// How long an upload waits for a decoding slot before the answer is
/// "busy, try again".
pub const PHOTO_SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The decoder was busy for the whole wait.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

/// Runs `work` on the blocking pool once one of `slots` is free, waiting at
/// most `wait` for it: at most as many decodes run as there are slots,
/// however many uploads arrive.
pub async fn with_slot<T: Send + 'static>(
    slots: &std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Busy> {
    let permit = tokio::time::timeout(wait, slots.clone().acquire_owned())
        .await
        .map_err(|_| Busy)?
        .map_err(|_| Busy)?;
    tokio::task::spawn_blocking(move || {
        // Held until the work is done, even if the request went away.
        let _permit = permit;
        work()
    })
    .await
    .map_err(|_| Busy)
}

async fn change(state: AppState, signed_in: SignedIn, request: Request) -> Result<(), Refused> {
    let (parts, body) = request.into_parts();
    let Query(target) = Query::<PhotoTarget>::try_from_uri(&parts.uri)
        .map_err(|_| AppError::field("photo", "The upload address is malformed."))?;
    // The guard first: nobody waits for a decoding slot, or has their
    // bytes read, for a change they may not make.
    let (ctx, membership_id, account) = target_account(&state, signed_in, target.member).await?;
    let png = if parts.method == Method::DELETE {
        None
    } else {
        // One byte over the limit is enough to know it is too big.
        let bytes = to_bytes(body, MAX_PHOTO_BYTES + 1).await.map_err(|error| {
            if crate::middleware::is_too_slow(&error) {
                AppError::field("photo", crate::middleware::TOO_SLOW_MESSAGE)
            } else {
                too_big()
            }
        })?;
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(too_big().into());
        }
        let bytes = bytes.to_vec();
        Some(
            with_slot(&state.photo_slots, PHOTO_SLOT_WAIT, move || {
                normalise(&bytes)
            })
            .await
            .map_err(|Busy| Refused::Busy)??,
        )
    };
    let mut tx = state.pool.begin().await?;
    match &png {
        Some(png) => {
            sqlx::query!(
                "INSERT INTO account_photos (account_id, png) VALUES ($1, $2)
                 ON CONFLICT (account_id) DO UPDATE SET png = excluded.png, updated_at = now()",
                account,
                png.as_slice()
            )
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query!("DELETE FROM account_photos WHERE account_id = $1", account)
                .execute(&mut *tx)
                .await?;
        }
    }
    ctx.record(
        &mut tx,
        ctx.event(if png.is_some() {
            audit::AuditAction::PhotoChanged
        } else {
            audit::AuditAction::PhotoRemoved
        })
        .target_membership(membership_id)
        .target_account(account),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn too_big() -> AppError {
    AppError::field("photo", "A photo can be at most 2 MB.")
}

/// Checks the bytes are a PNG, JPEG or WebP image (by content), decodes it
/// within memory limits and returns a 256 px square PNG of its centre.
pub fn normalise(bytes: &[u8]) -> Result<Vec<u8>, AppError> {
    let not_an_image = || AppError::field("photo", "That file is not a PNG, JPEG or WebP image.");
    let format = image::guess_format(bytes).map_err(|_| not_an_image())?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP
    ) {
        return Err(not_an_image());
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    // 4,000 x 4,000 RGBA is 64 MB: a phone photo fits, a decompression
    // bomb does not. Two decodes at once (AppState::photo_slots) bound the
    // total.
    limits.max_image_width = Some(MAX_PHOTO_SIDE);
    limits.max_image_height = Some(MAX_PHOTO_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|_| {
        AppError::field(
            "photo",
            "That image could not be read: it may be damaged, or larger than 4,000 pixels a side.",
        )
    })?;
    let square = image.resize_to_fill(PHOTO_SIDE, PHOTO_SIDE, FilterType::Lanczos3);
    let mut out = Vec::new();
    square
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(AppError::internal("encoding a photo"))?;
    Ok(out)
}

pub async fn serve(state: AppState, Path(file): Path<String>, signed_in: SignedIn) -> Response {
    match photo(state, &file, signed_in).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

async fn photo(state: AppState, file: &str, signed_in: SignedIn) -> Result<Response, AppError> {
    let viewer = signed_in.session.account_id;
    let account: i64 = file
        .strip_suffix(".png")
        .and_then(|id| id.parse().ok())
        .ok_or(AppError::NotFound)?;
    // Only people who share a workspace with them see their face.
    let png: Option<Vec<u8>> = sqlx::query_scalar!(
        "SELECT p.png FROM account_photos p
          WHERE p.account_id = $1
            AND EXISTS (SELECT 1 FROM memberships mine
                          JOIN memberships theirs ON theirs.workspace_id = mine.workspace_id
                         WHERE mine.account_id = $2 AND mine.status = 'active'
                           AND theirs.account_id = $1)",
        account,
        viewer
    )
    .fetch_optional(&state.pool)
    .await?;
    let png = png.ok_or(AppError::NotFound)?;
    let mut response = Response::new(Body::from(png));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    // The URL carries the photo's version, so it can be kept a day.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
