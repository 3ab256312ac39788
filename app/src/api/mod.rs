//! Server functions, grouped by area. Each one is a public HTTP endpoint
//! under `/api/`: each starts with the guard (`server::require*`), except
//! the few listed in `PUBLIC_ENDPOINTS`, which a signed-out person must reach.

pub mod accept;
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod bell;
pub mod bulk;
pub mod email_change;
pub mod email_verification;
pub mod groups;
pub mod impersonation;
pub mod import;
pub mod invitations;
pub mod kiosk;
pub mod lifecycle;
pub mod members;
pub mod notices;
pub mod password_reset;
pub mod profile;
pub mod reports;
pub mod scim;
pub mod sessions;
pub mod time;
pub mod two_factor;
pub mod workspaces;

/// Server functions callable without a session. The API middleware refuses
/// every other `/api/` call that has no live session before it runs.
pub const PUBLIC_ENDPOINTS: &[&str] = &[
    "/api/sign_in",
    "/api/sign_up",
    // The invitation link and the email confirmation link are opened by
    // people who may not be signed in; the token is their credential.
    "/api/invitation_preview",
    "/api/accept_invitation",
    "/api/verify_email",
    "/api/confirm_email_change",
    // "Forgot password?" is for people who cannot sign in.
    "/api/request_password_reset",
    "/api/password_reset_state",
    "/api/reset_password",
    // Sign-up, an invitation and a reset choose a password signed out; the
    // answer is about a published list, never about an account.
    "/api/check_new_password",
    // The code step of signing in: its credential is the challenge cookie
    // from the password step, not a session.
    "/api/verify_two_factor",
    // The Kiosk device has no session; its own token cookie is checked by
    // each of these (`kiosk::device`).
    "/api/kiosk_info",
    "/api/kiosk_people",
    "/api/kiosk_punch",
    "/api/exit_kiosk",
];

/// Where a proven password leads, with the cookies to send once the
/// transaction has committed.
#[cfg(feature = "ssr")]
struct Landing {
    cookies: Vec<String>,
    path: &'static str,
}

/// After a password is proven (sign-in, reset, accepting an invitation):
/// a session, or the two-factor code form when the account has it on, so no
/// path skips the second factor. Mails the person about a new browser.
#[cfg(feature = "ssr")]
async fn after_password(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    workspace_id: Option<i64>,
    state: &crate::server::AppState,
    meta: &crate::server::session::RequestMeta,
    headers: &http::HeaderMap,
) -> Result<Landing, crate::error::AppError> {
    use crate::server::two_factor::{self as tf, SignInStep};
    match tf::after_password(conn, account_id, workspace_id, &state.auth, meta, headers).await? {
        SignInStep::Session {
            cookies,
            new_device,
        } => {
            if new_device {
                crate::server::notices::new_sign_in(conn, account_id, meta).await?;
            }
            Ok(Landing {
                cookies,
                path: auth::landing_path(workspace_id.is_some()),
            })
        }
        SignInStep::NeedsCode { cookie } => Ok(Landing {
            cookies: vec![cookie],
            path: tf::CODE_PAGE,
        }),
    }
}

/// Sends a landing's cookies and redirect (after the commit).
#[cfg(feature = "ssr")]
fn land(landing: Landing) -> Result<(), crate::error::AppError> {
    for cookie in landing.cookies {
        set_cookie(cookie)?;
    }
    leptos_axum::redirect(landing.path);
    Ok(())
}

/// Adds a `Set-Cookie` header to the server function's response.
#[cfg(feature = "ssr")]
fn set_cookie(cookie: String) -> Result<(), crate::error::AppError> {
    let internal = |what: &str| {
        tracing::error!("{what}");
        crate::error::AppError::Internal
    };
    let response = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        .ok_or_else(|| internal("ResponseOptions missing from the server function context"))?;
    let value = cookie
        .parse()
        .map_err(|_| internal("session cookie is not a valid header value"))?;
    response.append_header(http::header::SET_COOKIE, value);
    Ok(())
}

#[cfg(feature = "ssr")]
fn request_meta(
    state: &crate::server::AppState,
) -> Result<(crate::server::session::RequestMeta, http::HeaderMap), crate::error::AppError> {
    let parts = leptos::prelude::use_context::<http::request::Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from the server function context");
        crate::error::AppError::Internal
    })?;
    Ok((
        crate::server::session::RequestMeta::from_parts(&parts, &state.auth),
        parts.headers,
    ))
}
