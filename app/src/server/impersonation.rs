//! "Log in as user" (PRODUCT.md section 5, issue 15): an Owner views their
//! Enterprise workspace as one of its members.
//!
//! Unlike Zammad's session takeover, the view is a separate session row
//! for the person (`sessions.impersonator_account_id` names the Owner),
//! pinned to one workspace and short-lived (`IMPERSONATION_MINUTES`). The
//! Owner's own session row is left alone; its cookie value waits in a
//! second HttpOnly cookie (`OWNER_COOKIE`) and comes back on "Back to my
//! view", on sign out and when the view lapses. The person's own sessions
//! are never touched. Every end is audited and told to the person.
//!
//! Whether a view may still be used is checked on every request, as part
//! of loading the session (SQL `teamroom_impersonation_allowed`).

use chrono::{DateTime, Utc};
use cookie::{time::Duration as CookieDuration, Cookie};
use http::{header, HeaderMap, HeaderValue};
use sqlx::{Connection, PgConnection};

use super::{
    audit, notices,
    session::{self, RequestMeta, SessionToken},
    state::AuthSettings,
    time as timedb, Ctx,
};
use crate::{domain::MemberStatus, error::AppError};

/// The Owner's own session cookie value, parked while they view as someone.
pub const OWNER_COOKIE: &str = "teamroom_owner_session";

pub use crate::domain::accounts::{parse_reason, MAX_REASON_CHARS};

/// The refusal shown for anything the person's credentials guard.
pub fn refusal(subject_name: &str, what: &str) -> AppError {
    AppError::Conflict(format!(
        "While viewing as {subject_name} you cannot {what}. Use “Back to my view” first."
    ))
}

/// The name of the person a live impersonation session views as.
pub async fn subject_name(conn: &mut PgConnection, account_id: i64) -> Result<String, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT display_name FROM accounts WHERE id = $1",
        account_id
    )
    .fetch_optional(conn)
    .await?
    .unwrap_or_else(|| "this person".to_owned()))
}

/// The parked cookie: the Owner's own session value, HttpOnly like the
/// session cookie, for as long as a session may live.
pub fn owner_cookie(value: &str, settings: &AuthSettings, secure: bool) -> String {
    session::http_only_cookie(
        OWNER_COOKIE,
        value,
        CookieDuration::seconds(settings.session_absolute.num_seconds()),
        secure,
        settings,
    )
}

pub fn clear_owner_cookie(settings: &AuthSettings, secure: bool) -> String {
    session::http_only_cookie(OWNER_COOKIE, "", CookieDuration::ZERO, secure, settings)
}

/// The parked Owner cookie's value from a request, if any.
pub fn owner_token_from_headers(headers: &HeaderMap, settings: &AuthSettings) -> Option<String> {
    session::cookie_value(headers, OWNER_COOKIE, 64, settings)
}

/// The cookies that put the Owner back in their own session.
pub fn return_cookies(owner_token: &str, settings: &AuthSettings, secure: bool) -> Vec<String> {
    let token = SessionToken {
        value: owner_token.to_owned(),
        hash: session::hash_token(owner_token),
    };
    vec![
        session::set_cookie(&token, settings, secure),
        clear_owner_cookie(settings, secure),
    ]
}

/// Rewrites a request's cookies so it is served with the Owner's own
/// session (and without the parked cookie), after their view lapsed.
pub fn request_as_owner(headers: &mut HeaderMap, owner_token: &str, settings: &AuthSettings) {
    let session_name = session::cookie_name(session::COOKIE_NAME, settings);
    let owner_name = session::cookie_name(OWNER_COOKIE, settings);
    let mut cookies: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(|c| c.name() != session_name && c.name() != owner_name)
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    cookies.push(format!("{session_name}={owner_token}"));
    headers.remove(header::COOKIE);
    if let Ok(value) = HeaderValue::from_str(&cookies.join("; ")) {
        headers.insert(header::COOKIE, value);
    }
}

/// Starts a view as the member `membership_id` of the Owner's workspace,
/// in the caller's transaction: the new session's token (for the cookie).
/// Refuses (nothing written) a non-Owner, an Owner already viewing as
/// someone, a workspace with the feature off, and anyone but an active,
/// full, non-Owner member other than the Owner; another workspace's
/// membership is NotFound.
pub async fn start(
    conn: &mut PgConnection,
    ctx: &Ctx,
    membership_id: i64,
    reason: Option<String>,
    settings: &AuthSettings,
) -> Result<SessionToken, AppError> {
    if ctx.is_impersonating() {
        let name = subject_name(conn, ctx.subject_account_id).await?;
        return Err(AppError::Conflict(format!(
            "You are already viewing as {name}. Go back to your own view first."
        )));
    }
    if !ctx.positions.owner {
        return Err(AppError::Forbidden);
    }
    // FOR SHARE: turning the switch off waits for this start, and then ends it.
    let allowed = sqlx::query_scalar!(
        "SELECT allow_impersonation FROM workspaces WHERE id = $1 FOR SHARE",
        ctx.workspace_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if !allowed {
        return Err(AppError::Conflict(
            "“Log in as user” is turned off for this workspace. The Owner can turn it on in Settings."
                .into(),
        ));
    }
    let target = sqlx::query!(
        r#"SELECT m.account_id, m.status AS "status: MemberStatus",
                  teamroom_member_name(m, a) AS "name!",
                  w.owner_account_id
             FROM memberships m
             JOIN workspaces w ON w.id = m.workspace_id
             LEFT JOIN accounts a ON a.id = m.account_id
            WHERE m.workspace_id = $1 AND m.id = $2"#,
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let name = &target.name;
    let subject = match (target.status, target.account_id) {
        (MemberStatus::Pending, _) => {
            return Err(AppError::Conflict(format!(
                "{name} has not joined yet: there is no account to view as."
            )))
        }
        (MemberStatus::Inactive, _) => {
            return Err(AppError::Conflict(format!(
                "{name} is deactivated. Reactivate them first to view as them."
            )))
        }
        (_, None) => {
            return Err(AppError::Conflict(format!(
                "{name} is a limited member without an account: there is nothing to view as."
            )))
        }
        (_, Some(account)) if account == ctx.actor_account_id => {
            return Err(AppError::Conflict(
                "That is you: you are already in your own view.".into(),
            ))
        }
        (_, Some(account)) if account == target.owner_account_id => {
            return Err(AppError::Conflict(
                "You cannot view as the workspace's Owner.".into(),
            ))
        }
        (_, Some(account)) => account,
    };
    let token = session::create(conn, subject, Some(ctx.workspace_id), settings, &ctx.meta).await?;
    let ends_at: DateTime<Utc> = sqlx::query_scalar!(
        "UPDATE sessions
            SET impersonator_account_id = $2, impersonation_workspace_id = $3,
                impersonation_reason = $4, return_token_hash = $5,
                expires_at = now() + make_interval(mins => $6)
          WHERE token_hash = $1
      RETURNING expires_at",
        token.hash.as_slice(),
        ctx.actor_account_id,
        ctx.workspace_id,
        reason.as_deref(),
        ctx.session.token_hash.as_slice(),
        settings.impersonation_minutes.clamp(1, 24 * 60) as i32,
    )
    .fetch_one(&mut *conn)
    .await?;
    ctx.record(
        conn,
        ctx.event(audit::AuditAction::ImpersonationStarted)
            .target_account(subject)
            .target_membership(membership_id)
            .details(serde_json::json!({
                "reason": reason,
                "ends_at": ends_at.to_rfc3339(),
            })),
    )
    .await?;
    Ok(token)
}

/// Why a view ended, as the audit row records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// "Back to my view".
    Back,
    /// Sign out while viewing (the Owner returns to their own view).
    SignOut,
    /// Its time was up.
    Expired,
    /// No longer allowed: the switch turned off, the Owner or the person
    /// changed, or the Owner's own session ended.
    Revoked,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Back => "back",
            Self::SignOut => "sign_out",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            Self::Back => "They ended it by going back to their own view.",
            Self::SignOut => "They ended it by signing out.",
            Self::Expired => "It ended by itself when its time was up.",
            Self::Revoked => "It ended because it was no longer allowed.",
        }
    }
}

/// An impersonation session as it is deleted.
struct EndedRow {
    subject_account_id: i64,
    impersonator_account_id: i64,
    workspace_id: i64,
    reason: Option<String>,
    started_at: DateTime<Utc>,
    lapsed: bool,
}

/// A view that has just been ended.
#[derive(Debug, Clone)]
pub struct Ended {
    pub subject_account_id: i64,
    pub subject_name: String,
    pub impersonator_account_id: i64,
}

/// Ends the view `token_hash`, if it is still there, in the caller's
/// transaction: the session row goes, the end is audited and the person is
/// told (bell and mail). `reason` None: expired or revoked, whichever it
/// is. Concurrent calls end it once.
pub async fn end(
    conn: &mut PgConnection,
    token_hash: &[u8],
    reason: Option<EndReason>,
    meta: &RequestMeta,
    settings: &AuthSettings,
) -> Result<Option<Ended>, AppError> {
    let row = sqlx::query_as!(
        EndedRow,
        r#"DELETE FROM sessions
            WHERE token_hash = $1 AND impersonator_account_id IS NOT NULL
        RETURNING account_id AS subject_account_id,
                  impersonator_account_id AS "impersonator_account_id!",
                  impersonation_workspace_id AS "workspace_id!",
                  impersonation_reason AS reason,
                  created_at AS started_at,
                  (expires_at <= now()
                   OR last_seen_at <= now() - make_interval(secs => $2)) AS "lapsed!""#,
        token_hash,
        settings.session_idle.num_seconds() as f64
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let reason = reason.unwrap_or(if row.lapsed {
        EndReason::Expired
    } else {
        EndReason::Revoked
    });
    record_end(conn, &row, reason, meta, settings)
        .await
        .map(Some)
}

/// Ends every view that lapsed or is no longer allowed (the sweeper, before
/// it deletes expired sessions), each audited and told. Answers how many.
pub async fn end_lapsed(conn: &mut PgConnection, settings: &AuthSettings) -> Result<u64, AppError> {
    let mut tx = conn.begin().await?;
    let rows = sqlx::query_as!(
        EndedRow,
        r#"DELETE FROM sessions
            WHERE token_hash IN (
                  SELECT token_hash FROM sessions
                   WHERE impersonator_account_id IS NOT NULL
                     AND (expires_at <= now()
                          OR last_seen_at <= now() - make_interval(secs => $1)
                          OR active_workspace_id IS DISTINCT FROM impersonation_workspace_id
                          OR NOT teamroom_impersonation_allowed(impersonation_workspace_id,
                                     impersonator_account_id, account_id, return_token_hash))
                   LIMIT 500
                   FOR UPDATE SKIP LOCKED)
        RETURNING account_id AS subject_account_id,
                  impersonator_account_id AS "impersonator_account_id!",
                  impersonation_workspace_id AS "workspace_id!",
                  impersonation_reason AS reason,
                  created_at AS started_at,
                  (expires_at <= now()
                   OR last_seen_at <= now() - make_interval(secs => $1)) AS "lapsed!""#,
        settings.session_idle.num_seconds() as f64
    )
    .fetch_all(&mut *tx)
    .await?;
    let meta = RequestMeta::default();
    for row in &rows {
        let reason = if row.lapsed {
            EndReason::Expired
        } else {
            EndReason::Revoked
        };
        record_end(&mut tx, row, reason, &meta, settings).await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

/// Ends every view into a workspace (its Owner turned the switch off).
pub async fn end_all_in_workspace(
    conn: &mut PgConnection,
    workspace_id: i64,
    meta: &RequestMeta,
    settings: &AuthSettings,
) -> Result<u64, AppError> {
    let hashes: Vec<Vec<u8>> = sqlx::query_scalar!(
        "SELECT token_hash FROM sessions
          WHERE impersonation_workspace_id = $1 AND impersonator_account_id IS NOT NULL",
        workspace_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut ended = 0;
    for hash in hashes {
        if end(conn, &hash, Some(EndReason::Revoked), meta, settings)
            .await?
            .is_some()
        {
            ended += 1;
        }
    }
    Ok(ended)
}

/// The audit row, the bell item and the mail for an ended view.
async fn record_end(
    conn: &mut PgConnection,
    row: &EndedRow,
    reason: EndReason,
    meta: &RequestMeta,
    settings: &AuthSettings,
) -> Result<Ended, AppError> {
    let facts = sqlx::query!(
        r#"SELECT o.display_name AS owner_name, o.email AS owner_email,
                  s.display_name AS subject_name, w.name AS workspace_name,
                  (SELECT m.id FROM memberships m
                    WHERE m.workspace_id = w.id AND m.account_id = s.id) AS membership_id
             FROM accounts o, accounts s, workspaces w
            WHERE o.id = $1 AND s.id = $2 AND w.id = $3"#,
        row.impersonator_account_id,
        row.subject_account_id,
        row.workspace_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let ended_at = Utc::now();
    let mut event = audit::Event::new(
        Some(row.workspace_id),
        audit::AuditAction::ImpersonationEnded,
    )
    .target_account(row.subject_account_id)
    .details(serde_json::json!({
        "ended_by": reason.as_str(),
        "reason": row.reason,
        "started_at": row.started_at.to_rfc3339(),
        "ended_at": ended_at.to_rfc3339(),
    }));
    if let Some(membership_id) = facts.membership_id {
        event = event.target_membership(membership_id);
    }
    audit::record(
        conn,
        &audit::Actor::new(row.impersonator_account_id, None, meta),
        event,
    )
    .await?;

    // Times in the person's own zone, as their Time page shows them.
    let tz = match facts.membership_id {
        Some(id) => timedb::member_zone(conn, row.workspace_id, id).await?.tz,
        None => chrono_tz::Tz::UTC,
    };
    let start = row.started_at.with_timezone(&tz);
    let end = ended_at.with_timezone(&tz);
    let window = if start.date_naive() == end.date_naive() {
        format!(
            "on {} from {} to {} ({})",
            start.format("%Y-%m-%d"),
            start.format("%H:%M"),
            end.format("%H:%M"),
            tz.name()
        )
    } else {
        format!(
            "from {} to {} ({})",
            start.format("%Y-%m-%d %H:%M"),
            end.format("%Y-%m-%d %H:%M"),
            tz.name()
        )
    };
    let why = match &row.reason {
        Some(text) => format!("The reason they gave: “{text}”."),
        None => "They gave no reason.".to_owned(),
    };
    let who = format!("{} ({})", facts.owner_name, facts.owner_email);
    let headline = format!(
        "{who}, the Owner of the workspace “{}”, viewed Teamroom as you {window}.",
        facts.workspace_name
    );
    let bell = format!("{headline} {why} {}", reason.phrase());
    notices::to_bell(
        conn,
        row.subject_account_id,
        Some(row.workspace_id),
        "impersonation",
        &bell,
    )
    .await?;
    let origin = super::mail::link_origin(settings);
    notices::viewed_as_you(
        conn,
        row.subject_account_id,
        &format!("{} viewed Teamroom as you", facts.owner_name),
        &[
            headline,
            why,
            reason.phrase().to_owned(),
            format!(
                "Everything done during that time is recorded in the workspace's audit log as \
                 “{} as {}”. Your password, two-factor, sessions and API keys were out of their \
                 reach, and your own sessions were not touched.",
                facts.owner_name, facts.subject_name
            ),
            format!("Open Teamroom: {origin}/"),
        ],
    )
    .await?;
    Ok(Ended {
        subject_account_id: row.subject_account_id,
        subject_name: facts.subject_name,
        impersonator_account_id: row.impersonator_account_id,
    })
}

/// What a request carrying the parked Owner cookie should get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Its session is a live view: serve it as the person.
    Viewing,
    /// The view is over (and now recorded); the Owner's own session is
    /// alive: put it back. `message` tells the Owner what happened.
    Returned {
        owner_token: String,
        message: String,
    },
    /// The parked cookie leads nowhere (or is left over): drop it.
    Stale,
}

/// Decides for a request with a parked Owner cookie. A view that no
/// longer loads (its time is up, or it is no longer allowed) is ended here,
/// audited and told, and the Owner lands back in their own view.
pub async fn on_request(
    conn: &mut PgConnection,
    session_token: Option<&str>,
    parked: &str,
    meta: &RequestMeta,
    settings: &AuthSettings,
) -> Result<Verdict, AppError> {
    if let Some(token) = session_token {
        if let Some(row) = session::load(conn, token, settings).await? {
            return Ok(if row.impersonator_account_id.is_some() {
                Verdict::Viewing
            } else {
                Verdict::Stale
            });
        }
    }
    let mut ended = None;
    if let Some(token) = session_token {
        let mut tx = conn.begin().await?;
        ended = end(&mut tx, &session::hash_token(token), None, meta, settings).await?;
        tx.commit().await?;
    }
    match session::load(conn, parked, settings).await? {
        Some(owner) if owner.impersonator_account_id.is_none() => {
            let whom = ended
                .map(|e| e.subject_name)
                .unwrap_or_else(|| "another member".to_owned());
            Ok(Verdict::Returned {
                owner_token: parked.to_owned(),
                message: format!(
                    "Your view as {whom} has ended (its time was up, or it is no longer allowed). \
                     You are back in your own view: reload the page."
                ),
            })
        }
        _ => Ok(Verdict::Stale),
    }
}

/// Whether `token` is a live view (an impersonation session), with the
/// person's name: the edge refuses sign-in, sign-up and link endpoints to it.
pub async fn live_view_of(
    conn: &mut PgConnection,
    token: &str,
    settings: &AuthSettings,
) -> Result<Option<String>, AppError> {
    match session::load(conn, token, settings).await? {
        Some(row) if row.impersonator_account_id.is_some() => {
            Ok(Some(subject_name(conn, row.account_id).await?))
        }
        _ => Ok(None),
    }
}

/// Whether the Owner has allowed "Log in as user" in the workspace.
pub async fn allowed_in(conn: &mut PgConnection, workspace_id: i64) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT allow_impersonation FROM workspaces WHERE id = $1",
        workspace_id
    )
    .fetch_one(conn)
    .await?)
}

/// The Owner's switch: an actual change is audited, and turning it off
/// ends every view into the workspace in the same transaction. Ownership
/// is checked again under the workspace lock.
pub async fn set_allowed(
    pool: &sqlx::PgPool,
    ctx: &super::Ctx,
    allowed: bool,
    settings: &AuthSettings,
) -> Result<(), AppError> {
    use super::workspace::{require_owner_in, set_switch, OwnerSwitch};
    let mut tx = pool.begin().await?;
    let ctx = &require_owner_in(&mut tx, ctx).await?;
    set_switch(&mut tx, ctx, OwnerSwitch::AllowImpersonation, allowed).await?;
    if !allowed {
        end_all_in_workspace(&mut tx, ctx.workspace_id, &ctx.meta, settings).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_optional_short_and_plain() {
        assert_eq!(parse_reason(None), Ok(None));
        assert_eq!(parse_reason(Some("   ")), Ok(None));
        assert_eq!(
            parse_reason(Some("  checking her permissions ")),
            Ok(Some("checking her permissions".to_owned()))
        );
        assert!(parse_reason(Some(&"é".repeat(500))).is_ok());
        assert!(parse_reason(Some(&"é".repeat(501))).is_err());
        assert!(parse_reason(Some(&"x".repeat(10_000))).is_err());
        assert!(parse_reason(Some("line one\nline two")).is_err());
        assert!(parse_reason(Some("bell\u{7}")).is_err());
    }

    #[test]
    fn a_lapsed_view_requests_as_the_owner() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static(
                "teamroom_session=view; teamroom_owner_session=own; teamroom_device=d",
            ),
        );
        let settings = AuthSettings::default();
        request_as_owner(&mut headers, "own", &settings);
        assert_eq!(
            session::token_from_headers(&headers, &settings).as_deref(),
            Some("own")
        );
        assert_eq!(owner_token_from_headers(&headers, &settings), None);
        assert_eq!(
            session::device_from_headers(&headers, &settings),
            None,
            "short device values are ignored anyway"
        );
        assert!(headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("teamroom_device=d")));
    }

    #[test]
    fn over_https_a_lapsed_view_uses_the_host_prefixed_names() {
        let settings = AuthSettings {
            secure_cookies: true,
            ..AuthSettings::default()
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static(
                "teamroom_session=planted; __Host-teamroom_session=view; __Host-teamroom_owner_session=own",
            ),
        );
        request_as_owner(&mut headers, "own", &settings);
        assert_eq!(
            session::token_from_headers(&headers, &settings).as_deref(),
            Some("own")
        );
        assert_eq!(owner_token_from_headers(&headers, &settings), None);
    }
}
