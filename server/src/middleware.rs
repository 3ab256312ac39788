//! Request checks that run before any page or server function.

use app::{
    api::PUBLIC_ENDPOINTS,
    error::AppError,
    server::{
        impersonation::{self, Verdict},
        session::{self, RequestMeta, SessionRow},
        AppState,
    },
};
use axum::{
    body::Body,
    extract::{FromRequestParts, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, request::Parts, HeaderMap, Method, StatusCode};
use server_fn::error::FromServerFnError;
use sqlx::PgPool;

/// An `AppError` as the server-function client expects it: JSON body,
/// error status.
pub fn error_response(error: AppError) -> Response {
    let mut response = Response::new(Body::from(error.ser()));
    *response.status_mut() = error.status();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    if let AppError::RateLimited { retry_after_secs } = error {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(retry_after_secs),
        );
    }
    response
}

/// The session the gate loaded and where the request came from: what an
/// axum handler behind the session gate (the exports, photos, the timer
/// stream) takes instead of reading the request's extensions itself, as
/// `rest::Caller` is for API keys. The handler's guard still checks the
/// workspace and the action.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: SessionRow,
    pub meta: RequestMeta,
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SignedIn>()
            .cloned()
            .ok_or_else(|| error_response(AppError::Unauthenticated))
    }
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Where a browser may legitimately send state-changing requests from.
#[derive(Clone, Debug)]
pub struct OriginPolicy {
    public_origin: Option<String>,
}

impl OriginPolicy {
    pub fn new(public_origin: Option<String>) -> Self {
        Self { public_origin }
    }

    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        if self.public_origin.as_deref() == Some(origin) {
            return true;
        }
        host.is_some_and(|host| {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        })
    }
}

/// Refuses cross-site POSTs to pages and server functions (CSRF). Browsers
/// say where a request comes from in `Sec-Fetch-Site` and `Origin`; a request
/// with neither is not from a browser page and carries no ambient cookie
/// risk beyond what SameSite=Lax already stops.
pub async fn same_origin_only(
    State(policy): State<OriginPolicy>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            tracing::warn!(site, path = %request.uri().path(), "cross-site request refused");
            return error_response(AppError::Forbidden);
        }
    }
    if let Some(origin) = text(header::ORIGIN) {
        if !policy.allows(origin, text(header::HOST)) {
            tracing::warn!(origin, path = %request.uri().path(), "foreign origin refused");
            return error_response(AppError::Forbidden);
        }
    }
    next.run(request).await
}

/// Every `/api/` call but the public few needs a live session. The guard in
/// each server function still checks the workspace and the action; this
/// gate means a server function that forgot its guard is still not public.
pub async fn api_session_gate(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    // The REST API authenticates by API key alone and ignores cookies
    // (`rest`): a session must not open it, nor its absence redirect it.
    if !path.starts_with("/api/")
        || path.starts_with(crate::rest::PREFIX)
        || path == crate::rest::DOCS_PATH
    {
        return next.run(request).await;
    }
    if PUBLIC_ENDPOINTS.contains(&path) {
        // Anyone's: their bodies count per client address.
        let (parts, body) = request.into_parts();
        let meta = RequestMeta::from_parts(&parts, &state.auth);
        let sender = format!("ip:{}", meta.ip.as_deref().unwrap_or("unknown"));
        let body = match slotted_body(&state.bodies_in_flight, &sender, body) {
            Ok(body) => body,
            Err(max) => return too_many_bodies(max, &state.auth),
        };
        return with_error_status(next.run(Request::from_parts(parts, body)).await).await;
    }
    let refuse = |headers: &HeaderMap| {
        if accepts_html(headers) {
            // A plain form post without JavaScript: send the person to sign in.
            (StatusCode::SEE_OTHER, [(header::LOCATION, "/signin")]).into_response()
        } else {
            error_response(AppError::Unauthenticated)
        }
    };
    let Some(token) = session::token_from_headers(request.headers(), &state.auth) else {
        return refuse(request.headers());
    };
    let loaded = match state.pool.acquire().await {
        Ok(mut conn) => session::load(&mut conn, &token, &state.auth).await,
        Err(error) => Err(AppError::from(error)),
    };
    match loaded {
        Ok(Some(row)) => {
            let (mut parts, body) = request.into_parts();
            let sender = format!(
                "account:{}",
                row.impersonator_account_id.unwrap_or(row.account_id)
            );
            let body = match slotted_body(&state.bodies_in_flight, &sender, body) {
                Ok(body) => body,
                Err(max) => return too_many_bodies(max, &state.auth),
            };
            let meta = RequestMeta::from_parts(&parts, &state.auth);
            parts.extensions.insert(SignedIn {
                session: row.clone(),
                meta,
            });
            // Server functions read the session row (`guard`).
            parts.extensions.insert(row);
            with_error_status(next.run(Request::from_parts(parts, body)).await).await
        }
        Ok(None) => refuse(request.headers()),
        Err(error) => error_response(error),
    }
}

/// "Log in as user" at the edge, before the session gate. Only requests
/// that carry the parked Owner cookie, or that call a public endpoint with
/// a session, cost anything here.
/// - A view that lapsed (its time is up, or it is no longer allowed) is
///   ended (audited, the person told) and the Owner's own session cookie
///   comes back: a page is then served as the Owner; a server function is
///   not run (it was meant for the person) but answered with what happened,
///   or, for a plain form post, sent to "/".
/// - A live view may not sign in, sign up or use links (those would
///   replace or drop the view without recording its end).
pub async fn impersonation_gate(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let token = session::token_from_headers(headers, &state.auth);
    let parked = impersonation::owner_token_from_headers(headers, &state.auth);
    let public = PUBLIC_ENDPOINTS.contains(&request.uri().path());
    if parked.is_none() && !(public && token.is_some()) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let meta = RequestMeta::from_parts(&parts, &state.auth);
    let mut conn = match state.pool.acquire().await {
        Ok(conn) => conn,
        Err(error) => return error_response(error.into()),
    };
    let mut drop_parked = false;
    if let Some(parked) = &parked {
        let verdict =
            impersonation::on_request(&mut conn, token.as_deref(), parked, &meta, &state.auth)
                .await;
        match verdict {
            Err(error) => return error_response(error),
            Ok(Verdict::Viewing) => {}
            Ok(Verdict::Stale) => drop_parked = true,
            Ok(Verdict::Returned {
                owner_token,
                message,
            }) => {
                drop(conn);
                let mut response = if parts.uri.path().starts_with("/api/") {
                    if accepts_html(&parts.headers) {
                        (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response()
                    } else {
                        error_response(AppError::Conflict(message))
                    }
                } else {
                    impersonation::request_as_owner(&mut parts.headers, &owner_token, &state.auth);
                    next.run(Request::from_parts(parts, body)).await
                };
                for cookie in impersonation::return_cookies(&owner_token, &state.auth, meta.secure)
                {
                    append_cookie(&mut response, &cookie);
                }
                return response;
            }
        }
    }
    if public {
        if let Some(token) = &token {
            match impersonation::live_view_of(&mut conn, token, &state.auth).await {
                Err(error) => return error_response(error),
                Ok(Some(name)) => {
                    return error_response(impersonation::refusal(
                        &name,
                        "sign in, sign up or open account links",
                    ))
                }
                Ok(None) => {}
            }
        }
    }
    drop(conn);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if drop_parked {
        append_cookie(
            &mut response,
            &impersonation::clear_owner_cookie(&state.auth, meta.secure),
        );
    }
    response
}

fn append_cookie(response: &mut Response, cookie: &str) {
    match header::HeaderValue::from_str(cookie) {
        Ok(value) => {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        Err(_) => tracing::error!("a cookie is not a valid header value"),
    }
}

/// What `security_headers` adds, fixed at start-up.
#[derive(Clone, Debug)]
pub struct HeaderPolicy {
    /// `PUBLIC_URL` is https: browsers are told to use nothing else.
    pub hsts: bool,
    /// `/pkg/`: the compiled app (cached by its own rules, never no-store).
    pub pkg_prefix: String,
}

impl HeaderPolicy {
    pub fn new(public_origin: &str, site_pkg_dir: &str) -> Self {
        Self {
            hsts: public_origin.starts_with("https://"),
            pkg_prefix: format!("/{}/", site_pkg_dir.trim_matches('/')),
        }
    }
}

/// The headers every response gets:
/// - `Strict-Transport-Security` when the site is served over https;
/// - `Cache-Control: no-store` on every page and every `/api/` or `/scim/`
///   answer that did not choose its own (a page or a server function may
///   show member data; a shared computer's back button or a proxy must not
///   keep it). The compiled app under `/pkg/` is left alone;
/// - a CSP that forbids everything on responses that set none (JSON,
///   CSV, files): pages set their own, naming their nonce (`app::server::csp`).
pub async fn security_headers(
    State(policy): State<HeaderPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let pkg = path.starts_with(&policy.pkg_prefix);
    let api = path.starts_with("/api/") || path.starts_with("/scim/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if policy.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !pkg && (html || api) && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(app::server::csp::NOTHING),
        );
    }
    response
}

/// Largest error body worth decoding; an `AppError` is a few hundred bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Server functions answer every error with 500; give each `AppError` its
/// own status instead (400 for validation, 401, 403, 404, 409, 429) so
/// clients, logs and proxies can tell a refusal from a fault. The body is
/// unchanged, and the server-function client decodes any 4xx/5xx the same.
async fn with_error_status(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => bytes,
        Err(error) => return error_response(AppError::internal("reading an error body")(error)),
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
        if let AppError::RateLimited { retry_after_secs } = error {
            parts.headers.insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_secs),
            );
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The most a request body to `path` may hold: small everywhere, larger
/// only where files come in. None: the handler reads its body itself,
/// with its own bound (photo upload, REST API, SCIM).
pub fn body_limit_for(path: &str) -> Option<usize> {
    use app::domain::limits::{DEFAULT_BODY_BYTES, IMPORT_BODY_BYTES, INVITE_BODY_BYTES};
    match path {
        "/api/photo" => None,
        "/api/v1" | "/scim/v2" => None,
        _ if path.starts_with("/api/v1/") || path.starts_with("/scim/v2/") => None,
        "/api/preview_import" | "/api/import_members" => Some(IMPORT_BODY_BYTES),
        "/api/invite_members" => Some(INVITE_BODY_BYTES),
        _ => Some(DEFAULT_BODY_BYTES),
    }
}

/// Before sessions and the database: a body that declares more than
/// [`body_limit_for`] allows is a 413 at once, with a message the page can
/// show (axum's `DefaultBodyLimit` is one number for the whole router, and
/// its refusal reaches a server function as an unreadable transport error).
/// Nothing is read here: see [`read_body_within_limit`].
pub async fn refuse_declared_oversize(request: Request, next: Next) -> Response {
    let Some(limit) = body_limit_for(request.uri().path()) else {
        return next.run(request).await;
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large(limit);
    }
    next.run(request).await
}

/// After the session gate: reads the body, at most [`body_limit_for`] (a
/// chunked body has no length, so reading stops one byte past the limit),
/// and hands it on. Reading after the gate means a stranger cannot make
/// the server take in 7.5 MB of "import" before being told to sign in.
pub async fn read_body_within_limit(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // Pages take no body: whatever comes with a request for one is left
    // unread (the route answers without it), whoever sent it.
    if !path.starts_with("/api/") {
        return next.run(request).await;
    }
    let Some(limit) = body_limit_for(path) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(error) if is_too_slow(&error) => too_slow(),
        Err(_) => too_large(limit),
    }
}

/// The pace a request body must keep (see
/// `AuthSettings::body_read_timeout`).
#[derive(Clone, Copy, Debug)]
pub struct BodyPace {
    pub first: std::time::Duration,
    pub min_bytes_per_second: u64,
}

impl BodyPace {
    pub fn of(settings: &app::server::AuthSettings) -> Self {
        Self {
            first: settings.body_read_timeout,
            min_bytes_per_second: settings.body_read_min_bytes_per_second.max(1),
        }
    }

    fn allowed_after(&self, received: u64) -> std::time::Duration {
        self.first
            + std::time::Duration::from_secs_f64(received as f64 / self.min_bytes_per_second as f64)
    }
}

/// Outermost of the body handling: every request body, whoever reads it
/// (a server function, the photo upload, REST, SCIM), ends in an error
/// once it falls behind [`BodyPace`]. The reader then answers, and the
/// connection is closed rather than kept for the rest of the body.
pub async fn pace_request_bodies(
    State(pace): State<BodyPace>,
    request: Request,
    next: Next,
) -> Response {
    use http_body::Body as _;
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let paced = PacedBody {
        inner: body,
        pace,
        started: tokio::time::Instant::now(),
        received: 0,
        deadline: Box::pin(tokio::time::sleep(pace.first)),
    };
    next.run(Request::from_parts(parts, Body::new(paced))).await
}

/// Why a body read failed, when it was [`pace_request_bodies`].
#[derive(Debug)]
struct BodyTooSlow;

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body arrived too slowly")
    }
}

impl std::error::Error for BodyTooSlow {}

/// Whether a body read failed because [`pace_request_bodies`] cut it off.
pub fn is_too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if current.is::<BodyTooSlow>() {
            return true;
        }
        cause = current.source();
    }
    false
}

/// What a person is told when their request body was cut off.
pub const TOO_SLOW_MESSAGE: &str =
    "That took too long to arrive and was stopped: try again on a better connection.";

fn too_slow() -> Response {
    let mut response = error_response(AppError::field("request", TOO_SLOW_MESSAGE));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// What a sender is told when it already has `max` bodies arriving.
pub fn too_many_bodies_message(max: usize) -> String {
    format!(
        "{max} requests from you are still arriving, the most there may be at once. Wait for them to finish, then try again."
    )
}

fn too_many_bodies(max: usize, settings: &app::server::AuthSettings) -> Response {
    let mut response = error_response(AppError::field("request", too_many_bodies_message(max)));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(settings.body_read_timeout.as_secs().max(1)),
    );
    response
}

/// `body` holding one of `sender`'s places (see
/// `AuthSettings::max_bodies_in_flight_per_sender`) until it has arrived,
/// failed or been dropped; `Err(max)` when the sender has none free.
/// Nothing of the body is read here. Taken after the sender is known, so
/// a stranger cannot use up someone's places.
pub fn slotted_body(
    bodies: &app::server::BodiesInFlight,
    sender: &str,
    body: Body,
) -> Result<Body, usize> {
    use http_body::Body as _;
    if body.is_end_stream() {
        return Ok(body);
    }
    match bodies.take(sender) {
        Some(slot) => Ok(Body::new(SlottedBody {
            inner: body,
            slot: Some(slot),
        })),
        None => Err(bodies.max_per_sender()),
    }
}

struct SlottedBody {
    inner: Body,
    slot: Option<app::server::BodySlot>,
}

impl http_body::Body for SlottedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        // The place goes back as soon as the body is over, not when the
        // handler that read it finishes.
        if matches!(polled, std::task::Poll::Ready(None | Some(Err(_))))
            || self.inner.is_end_stream()
        {
            self.slot = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

struct PacedBody {
    inner: Body,
    pace: BodyPace,
    started: tokio::time::Instant,
    received: u64,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for PacedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::{future::Future as _, task::Poll};
        let this = &mut *self;
        match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let until = this.started + this.pace.allowed_after(this.received);
                    this.deadline.as_mut().reset(until);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTooSlow)))),
                Poll::Pending => Poll::Pending,
            },
            done => done,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn too_large(limit: usize) -> Response {
    let mut response = error_response(AppError::field(
        "request",
        format!(
            "That is too much to send at once (at most {} KB).",
            limit / 1024
        ),
    ));
    *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    response
}

/// A 503 with `Retry-After` and a message the page shows as is: the server
/// is busy with this kind of work (exports, photos), not broken.
pub fn busy_response(message: &str, retry_after_secs: u64) -> Response {
    let mut response = error_response(AppError::Conflict(message.to_owned()));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(retry_after_secs),
    );
    response
}

/// `GET /healthz`: the process is up and the database answers.
pub async fn health(pool: PgPool) -> Response {
    match sqlx::query("SELECT 1").execute(&pool).await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OriginPolicy;

    #[test]
    fn origin_must_match_host_or_public_url() {
        let policy = OriginPolicy::new(Some("https://teamroom.example".into()));
        assert!(policy.allows("https://teamroom.example", Some("10.0.0.5:3000")));
        assert!(policy.allows("http://127.0.0.1:3000", Some("127.0.0.1:3000")));
        assert!(!policy.allows("https://evil.example", Some("127.0.0.1:3000")));
        assert!(!policy.allows("null", Some("127.0.0.1:3000")));
        assert!(!policy.allows("http://127.0.0.1:3000.evil.example", Some("127.0.0.1:3000")));
        assert!(!OriginPolicy::new(None).allows("http://127.0.0.1:3000", None));
    }
}
