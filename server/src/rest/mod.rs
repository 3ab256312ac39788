//! The REST API under `/api/v1/`, authenticated only by a workspace API key
//! (`Authorization: Bearer <key>` or `X-Api-Key: <key>`; never a session
//! cookie, so a page on another site cannot ride a signed-in browser into
//! it). Every handler turns the key into the same `Ctx` the pages get
//! (`guard::authorize_api_key`: membership, plan, two-factor, permission
//! matrix) and calls the same rule functions the pages call. Errors are
//! RFC 9457 problem documents; each key has a request budget per minute
//! kept in PostgreSQL; bodies are bounded and unknown fields refused.

mod audit;
pub mod docs;
mod groups;
mod invitations;
mod members;
mod time;

use app::{
    domain::Permission,
    error::{AppError, FieldErrors},
    server::{
        api_keys::{self, ApiKeyCtx},
        guard::{self, MyselfOr, Subject},
        session::RequestMeta,
        throttle, AppState, Ctx,
    },
};
use axum::{
    body::Body,
    extract::{FromRequest, FromRequestParts, Request, State},
    middleware::{from_fn_with_state, Next},
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
    Router,
};
use http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use serde::{de::DeserializeOwned, Serialize};
use sqlx::{pool::PoolConnection, Postgres};
use utoipa::ToSchema;

/// Where the REST API lives; the session middleware leaves it alone.
pub const PREFIX: &str = "/api/v1/";
/// The human-readable reference, outside `/api/v1/` (a page, not a resource).
pub const DOCS_PATH: &str = "/api/docs";
/// Largest request body the REST API reads.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The header a key may also come in, for clients that cannot set
/// `Authorization`.
const X_API_KEY: &str = "x-api-key";

/// An RFC 9457 problem document, as every error of the API is sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: String,
    #[schema(example = "Bad Request")]
    pub title: String,
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong, for a person to read.
    pub detail: String,
    /// Per-field messages, the same the forms show: `{"name": ["Enter a group name."]}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

/// A problem document response.
fn problem(status: StatusCode, detail: &str, errors: Option<FieldErrors>) -> Response {
    let body = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: detail.into(),
        errors: errors.map(|e| e.0),
    };
    let text = serde_json::to_string(&body).unwrap_or_else(|_| "{}".into());
    let mut response = Response::new(Body::from(text));
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

/// 400 naming the part of the request that is wrong.
fn bad_request(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::App(AppError::field(field, message))
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
    let mut response = problem(StatusCode::UNAUTHORIZED, detail, None);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// Any error of a handler, sent as a problem document. The contract: 400
/// means the request does not fit the OpenAPI document (types, bounds,
/// patterns, unknown fields); a request that fits it but that a rule refuses
/// given the workspace's state (a name taken, ids not in this workspace, a
/// stale cursor, a date range ending before it starts) is a 409 carrying the
/// same per-field `errors`.
#[derive(Debug)]
pub enum ApiError {
    App(AppError),
    /// A rule's field messages for a well-formed request: 409.
    Refused(FieldErrors),
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        Self::App(AppError::Validation(errors))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::App(AppError::from(error))
    }
}

/// For the errors of a rule function called with a request that already
/// passed the document's checks: field messages become a 409.
pub fn refused(error: AppError) -> ApiError {
    match error {
        AppError::Validation(errors) => ApiError::Refused(errors),
        other => ApiError::App(other),
    }
}

fn field_detail(errors: &FieldErrors) -> String {
    errors
        .0
        .iter()
        .flat_map(|(field, messages)| messages.iter().map(move |m| format!("{field}: {m}")))
        .collect::<Vec<_>>()
        .join(" ")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = match self {
            ApiError::Refused(errors) => {
                return problem(StatusCode::CONFLICT, &field_detail(&errors), Some(errors))
            }
            ApiError::App(error) => error,
        };
        match error {
            AppError::Unauthenticated => unauthorized(true),
            AppError::Internal => problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. Please try again.",
                None,
            ),
            AppError::Validation(errors) => problem(
                StatusCode::BAD_REQUEST,
                &field_detail(&errors),
                Some(errors),
            ),
            AppError::RateLimited { retry_after_secs } => {
                let mut response = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    &AppError::RateLimited { retry_after_secs }.to_string(),
                    None,
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
            other => problem(other.status(), &other.to_string(), None),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The key a request authenticated with and where it came from; put in the
/// request by [`gate`] for the handlers.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: ApiKeyCtx,
    pub meta: RequestMeta,
}

impl Caller {
    /// The guard of every handler: the key's membership allowed `action`,
    /// checked now (a role taken away a second ago counts), and a
    /// connection to go on with.
    pub async fn ctx(
        &self,
        state: &AppState,
        action: Permission,
    ) -> ApiResult<(Ctx, PoolConnection<Postgres>)> {
        let mut conn = state.pool.acquire().await?;
        let ctx = guard::authorize_api_key(&mut conn, &self.key, self.meta.clone(), action).await?;
        Ok((ctx, conn))
    }

    /// "Myself or someone I may manage" for a key: `target` (the key's
    /// own member when `None`) with `rule`'s permission for it, and
    /// another member only within the key's reach (404 otherwise).
    pub async fn subject(
        &self,
        state: &AppState,
        target: Option<i64>,
        rule: MyselfOr,
    ) -> ApiResult<(Subject, PoolConnection<Postgres>)> {
        let target = target.unwrap_or(self.key.membership_id);
        let permission = rule.permission(self.key.membership_id, target);
        let (ctx, mut conn) = self.ctx(state, permission).await?;
        let subject = if target == ctx.membership_id {
            Subject {
                ctx,
                membership_id: target,
                is_self: true,
            }
        } else {
            guard::reach(&mut conn, ctx, target).await?
        };
        Ok((subject, conn))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("REST handler reached without the key gate");
            ApiError::App(AppError::Internal).into_response()
        })
    }
}

/// The `Authorization` value to check: exactly one key header, at most
/// `MAX_HEADER_BYTES`. `Err(offered)` when there is nothing usable.
fn key_header(headers: &HeaderMap) -> Result<String, bool> {
    let bearer: Vec<&HeaderValue> = headers.get_all(header::AUTHORIZATION).iter().collect();
    let plain: Vec<&HeaderValue> = headers.get_all(X_API_KEY).iter().collect();
    match (bearer.as_slice(), plain.as_slice()) {
        ([], []) => Err(false),
        ([value], []) if value.len() <= api_keys::MAX_HEADER_BYTES => {
            value.to_str().map(str::to_owned).map_err(|_| true)
        }
        ([], [value]) if value.len() <= api_keys::MAX_HEADER_BYTES => value
            .to_str()
            .map(|key| format!("Bearer {}", key.trim()))
            .map_err(|_| true),
        _ => Err(true),
    }
}

/// Runs before every `/api/v1/` handler but the OpenAPI document: the key
/// (401 otherwise), then the key's budget for this minute (429 with
/// `Retry-After` past it). Every answer to a known key carries the
/// `RateLimit-*` headers.
async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let header_value = match key_header(&parts.headers) {
        Ok(value) => value,
        Err(offered) => return unauthorized(offered),
    };
    let mut conn = match state.pool.acquire().await {
        Ok(conn) => conn,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let key = match api_keys::authenticate_api_key(&mut conn, &header_value).await {
        Ok(key) => key,
        Err(error) => return ApiError::App(error).into_response(),
    };
    let limit = state.auth.api_requests_per_key_minute;
    let window = throttle::API_KEY.limited(limit);
    let counted = match window.count(&mut conn, &key.key_id.to_string()).await {
        Ok(counted) => counted,
        Err(error) => return ApiError::App(error).into_response(),
    };
    drop(conn);
    let mut response = if counted.hits > i64::from(limit) {
        ApiError::App(AppError::RateLimited {
            retry_after_secs: counted.reset_secs,
        })
        .into_response()
    } else {
        // Each key has places of its own: its holder cannot use up those
        // of its creator's browser.
        let sender = format!("key:{}", key.key_id);
        match crate::middleware::slotted_body(&state.bodies_in_flight, &sender, body) {
            Ok(body) => {
                let meta = RequestMeta::from_parts(&parts, &state.auth);
                parts.extensions.insert(Caller { key, meta });
                next.run(Request::from_parts(parts, body)).await
            }
            Err(max) => {
                let retry_after = state.auth.body_read_timeout.as_secs().max(1);
                let mut response = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    &crate::middleware::too_many_bodies_message(max),
                    None,
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
        }
    };
    let headers = response.headers_mut();
    let remaining = (i64::from(limit) - counted.hits).max(0);
    headers.insert("ratelimit-limit", HeaderValue::from(limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(counted.reset_secs));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A JSON request body: `application/json`, at most [`MAX_BODY_BYTES`],
/// the right types and no unknown fields, or a 400 problem saying which.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(bad_request(
                "body",
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|error| {
                // A 400 like every other unreadable body (the API's
                // documented answers); the message says what happened.
                if crate::middleware::is_too_slow(&error) {
                    return bad_request("body", crate::middleware::TOO_SLOW_MESSAGE);
                }
                bad_request(
                    "body",
                    format!(
                        "The body is too large: at most {} KB.",
                        MAX_BODY_BYTES / 1024
                    ),
                )
            })?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|error| bad_request("body", json_message(&error)))
    }
}

/// A list of ids as JSON Schema's `integer` has them: `7` and `7.0` alike
/// (both are integers there), within 64 bits.
pub fn whole_numbers<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<i64>, D::Error> {
    use serde::Deserialize;
    let numbers = Vec::<serde_json::Number>::deserialize(deserializer)?;
    numbers.iter().map(whole::<D::Error>).collect()
}

/// A field of a partial update that may be absent (keep), `null` (clear)
/// or an integer as [`whole_numbers`] reads it; use with `#[serde(default)]`.
pub fn nullable_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<i64>>, D::Error> {
    use serde::Deserialize;
    Option::<serde_json::Number>::deserialize(deserializer)?
        .map(|n| whole::<D::Error>(&n))
        .transpose()
        .map(Some)
}

fn whole<E: serde::de::Error>(n: &serde_json::Number) -> Result<i64, E> {
    n.as_i64()
        .or_else(|| {
            // serde_json reads `4043837578766094.0` a hair off
            // (fast float parsing): allow what that costs.
            n.as_f64()
                .filter(|f| f.abs() < 9.2e18)
                .filter(|f| (f - f.round()).abs() <= f.abs().max(1.0) * 1e-12)
                .map(|f| f.round() as i64)
        })
        .ok_or_else(|| E::custom(format!("{n} is not a 64-bit integer")))
}

/// serde's message without the Rust type names it sometimes includes.
fn json_message(error: &serde_json::Error) -> String {
    let text: String = error.to_string().chars().take(300).collect();
    match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("The body is not valid JSON ({text}).")
        }
        _ => format!("The body does not fit this endpoint: {text}."),
    }
}

/// Query parameters with the right types and no unknown ones, or a 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        if query.len() > 4096 {
            return Err(bad_request("query", "The query string is too long."));
        }
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|error| {
                let text: String = error.to_string().chars().take(300).collect();
                bad_request(
                    "query",
                    format!("The query parameters are not valid: {text}."),
                )
            })
    }
}

/// Path parameters (ids) that parse, or a 400.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|path| ApiPath(path.0))
            .map_err(|error| {
                let text: String = error.body_text().chars().take(300).collect();
                bad_request("path", text)
            })
    }
}

/// `from` and `to` for `DateRange::parse` (the reports' rule): a value
/// that is not a day of 2000-2099 is a 400 (the document says so); days
/// that are fine alone but not together (`to` before `from`, more than
/// three years, one without the other) are the rule's 409. Neither: None.
pub fn date_range(
    from: Option<&str>,
    to: Option<&str>,
) -> ApiResult<Option<app::domain::time::DateRange>> {
    let mut errors = FieldErrors::default();
    for (field, value) in [("from", from), ("to", to)] {
        let shaped = |value: &str| {
            value.len() == 10
                && value.starts_with("20")
                && chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok()
        };
        if value.is_some_and(|v| !shaped(v)) {
            errors.add(field, "Give a day as YYYY-MM-DD, between 2000 and 2099.");
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    app::domain::time::DateRange::parse(from.unwrap_or(""), to.unwrap_or(""))
        .map(Some)
        .map_err(ApiError::Refused)
}

/// A JSON answer that must not be cached.
pub fn ok<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /api/v1/me`: the account, workspace and membership the key acts as.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, description = "Who the key acts as", body = Me)))]
async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let mut conn = state.pool.acquire().await?;
    let me = api_keys::me(&mut conn, &caller.key).await?;
    Ok(ok(
        StatusCode::OK,
        &Me {
            account_id: me.account_id,
            email: me.email,
            display_name: me.display_name,
            workspace_id: me.workspace_id,
            workspace_name: me.workspace_name,
            membership_id: me.membership_id,
            roles: me.roles.iter().map(|r| (*r).to_owned()).collect(),
            status: me.status,
        },
    ))
}

/// Who a key acts as.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub account_id: i64,
    pub email: String,
    pub display_name: String,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub membership_id: i64,
    /// Any of `owner`, `admin`, `project_manager`, `team_manager`, `member`.
    pub roles: Vec<String>,
    pub status: String,
}

/// Any other path under `/api/v1/`: a problem document, not the app's HTML
/// 404 page.
pub async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "There is no such API endpoint.",
        None,
    )
}

/// A known path with a method it does not take.
pub async fn method_not_allowed() -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint does not take that method.",
        None,
    )
}

/// The REST API's routes, nested under `/api/v1` by the main router.
pub fn router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    let guarded = Router::new()
        .route("/me", get(me))
        .route("/me/timer/stop", post(time::stop_my_timer))
        .route("/members", get(members::list))
        .route(
            "/members/{id}",
            get(members::get_one).delete(members::delete),
        )
        .route(
            "/members/{id}/profile",
            get(members::profile).patch(members::update_profile),
        )
        .route("/members/{id}/timer/stop", post(time::stop_member_timer))
        .route("/members/{id}/deactivate", post(members::deactivate))
        .route("/members/{id}/reactivate", post(members::reactivate))
        .route(
            "/members/{id}/roles/{role}",
            put(members::give_role).delete(members::take_role),
        )
        .route("/groups", get(groups::list).post(groups::create))
        .route(
            "/groups/{id}",
            axum::routing::patch(groups::rename).delete(groups::delete),
        )
        .route("/groups/{id}/members", post(groups::add_members))
        .route(
            "/groups/{id}/members/{member_id}",
            delete(groups::remove_member),
        )
        .route("/projects", get(groups::projects))
        .route(
            "/invitations",
            get(invitations::list).post(invitations::create),
        )
        .route("/invitations/{id}", delete(invitations::revoke))
        .route("/invitations/{id}/resend", post(invitations::resend))
        .route("/time-entries", get(time::entries))
        .route("/reports/summary", get(time::summary))
        .route("/audit-events", get(audit::list))
        .route_layer(from_fn_with_state(state.clone(), gate));
    Router::new()
        .route("/openapi.json", get(docs::openapi_json))
        .merge(guarded)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}
