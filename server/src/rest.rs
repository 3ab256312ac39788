//! The REST API under `/api/v1/`, authenticated only by an API key in
//! `Authorization: Bearer <key>` (never a session cookie, so a page on
//! another site cannot ride a signed-in browser into it). Errors are RFC 9457
//! problem documents. Today it has one endpoint, `GET /api/v1/me`, which
//! proves keys work; the rest of the API is the next issue.

use app::{
    error::AppError,
    server::{
        api_keys::{self, ApiKeyCtx},
        AppState,
    },
};
use axum::{
    body::Body,
    extract::Request,
    response::{IntoResponse, Response},
};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

/// Where the REST API lives; the session middleware leaves it alone.
pub const PREFIX: &str = "/api/v1/";

/// A problem document (`application/problem+json`).
fn problem(status: StatusCode, detail: &str) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 401 with the challenge RFC 6750 asks for; `invalid_token` once a key
/// was offered. The detail never says which check failed.
fn unauthorized(offered: bool) -> Response {
    let (challenge, detail) = if offered {
        (
            r#"Bearer error="invalid_token""#,
            "The API key is not valid. It may be mistyped, revoked or expired.",
        )
    } else {
        (
            "Bearer",
            "Send an API key in the Authorization header: Bearer <key>.",
        )
    };
    let mut response = problem(StatusCode::UNAUTHORIZED, detail);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

fn error_response(error: AppError, offered: bool) -> Response {
    match error {
        AppError::Unauthenticated => unauthorized(offered),
        AppError::Internal => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Please try again.",
        ),
        other => problem(other.status(), &other.to_string()),
    }
}

/// The one guard of every REST handler: exactly one `Authorization` header,
/// at most `MAX_HEADER_BYTES`, naming a live key of an active member.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<ApiKeyCtx, Response> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        let offered = headers.contains_key(header::AUTHORIZATION);
        return Err(unauthorized(offered));
    };
    if value.len() > api_keys::MAX_HEADER_BYTES {
        return Err(unauthorized(true));
    }
    let Ok(value) = value.to_str() else {
        return Err(unauthorized(true));
    };
    let mut conn = state
        .pool
        .acquire()
        .await
        .map_err(|e| error_response(AppError::from(e), true))?;
    api_keys::authenticate_api_key(&mut conn, value)
        .await
        .map_err(|e| error_response(e, true))
}

/// `GET /api/v1/me`: the account, workspace and membership the key acts as.
pub async fn me(state: AppState, request: Request) -> Response {
    // Only the head: a body is not Sync, so it may not be held across
    // awaits; and it is never read, however large.
    let (parts, _) = request.into_parts();
    let key = match authenticate(&state, &parts.headers).await {
        Ok(key) => key,
        Err(response) => return response,
    };
    let answer = match state.pool.acquire().await {
        Ok(mut conn) => api_keys::me(&mut conn, &key).await,
        Err(error) => Err(AppError::from(error)),
    };
    match answer {
        Ok(me) => {
            let mut response = axum::Json(me).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => error_response(error, true),
    }
}

/// Any other path under `/api/v1/`: a problem document, not the app's HTML
/// 404 page.
pub async fn not_found() -> Response {
    problem(StatusCode::NOT_FOUND, "There is no such API endpoint.")
}
