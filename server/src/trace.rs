//! Request tracing: every request gets a fresh id (sent back in
//! `x-request-id`) and a span carrying the method, the route and that id,
//! so every log line written while serving it says which request it was.

use axum::{extract::MatchedPath, extract::Request};
use http::HeaderName;
use tower_http::request_id::{MakeRequestId, MakeRequestUuid, RequestId};
use tracing::Span;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Leptos runs page resources (and so the server functions a page render
/// calls) as spawned tasks. Spawned plainly (`tokio::spawn`, Leptos's
/// default) they leave the request span and their log lines lose the
/// request id; this executor keeps the span of whoever spawns. Set once per
/// process, before the first request (later calls change nothing).
pub fn init_executor() {
    use any_spawner::{CustomExecutor, Executor, PinnedFuture, PinnedLocalFuture};
    use tracing::Instrument;

    struct InCurrentSpan;

    impl CustomExecutor for InCurrentSpan {
        fn spawn(&self, fut: PinnedFuture<()>) {
            tokio::spawn(fut.in_current_span());
        }
        fn spawn_local(&self, fut: PinnedLocalFuture<()>) {
            tokio::task::spawn_local(fut.in_current_span());
        }
        fn poll_local(&self) {}
    }

    let _ = Executor::init_custom_executor(InCurrentSpan);
}

/// Path segments after these are secrets (invitation, reset, address
/// confirmation tokens): logs show the route's placeholder instead.
const TOKEN_ROUTES: [&str; 4] = ["invite", "reset-password", "verify-email", "email-change"];

/// Longer segments look like tokens or ids someone pasted; not logged whole.
const MAX_LOGGED_SEGMENT: usize = 32;

/// A new UUID for every request. A client's own `x-request-id` is never
/// used: it would let anyone give two requests one id, or put arbitrary
/// text into the logs.
#[derive(Clone, Copy, Default)]
pub struct ServerRequestId;

impl MakeRequestId for ServerRequestId {
    fn make_request_id<B>(&mut self, request: &http::Request<B>) -> Option<RequestId> {
        MakeRequestUuid.make_request_id(request)
    }
}

/// Drops whatever `x-request-id` the client sent, so `SetRequestIdLayer`
/// always makes a new one.
pub fn forget_client_request_id(mut request: Request) -> Request {
    request.headers_mut().remove(REQUEST_ID);
    request
}

/// The path as logs may show it: the matched route when there is one
/// (`/invite/{token}`), otherwise the request path with secret-looking
/// segments replaced. Never the query string.
pub fn loggable_path(request: &Request) -> String {
    if let Some(matched) = request.extensions().get::<MatchedPath>() {
        // A nested service's route ends in axum's catch-all; the rest of
        // the path is what tells requests apart (`/pkg/app.js`).
        if !matched.as_str().contains("{*") {
            return matched.as_str().to_owned();
        }
    }
    redact_path(request.uri().path())
}

/// Replaces the segment after a token route and any overlong segment.
pub fn redact_path(path: &str) -> String {
    let mut previous = "";
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| {
            let out = if TOKEN_ROUTES.contains(&previous) && !segment.is_empty() {
                "{token}"
            } else if segment.chars().count() > MAX_LOGGED_SEGMENT {
                "{redacted}"
            } else {
                segment
            };
            previous = segment;
            out
        })
        .collect();
    segments.join("/")
}

/// The span every log line of a request is written in.
pub fn request_span(request: &Request) -> Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %loggable_path(request),
        request_id = %request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_not_logged() {
        assert_eq!(redact_path("/invite/abcDEF123"), "/invite/{token}");
        assert_eq!(redact_path("/reset-password/x"), "/reset-password/{token}");
        assert_eq!(redact_path("/verify-email/x/"), "/verify-email/{token}/");
        assert_eq!(redact_path("/email-change/x"), "/email-change/{token}");
        assert_eq!(redact_path("/team/members/42"), "/team/members/42");
        let long = format!("/pkg/{}", "a".repeat(40));
        assert_eq!(redact_path(&long), "/pkg/{redacted}");
        assert_eq!(redact_path("/"), "/");
    }
}
