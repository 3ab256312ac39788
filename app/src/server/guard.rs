//! The one guard at the top of every server function: load the session,
//! reload account and membership from the database, refuse inactive
//! memberships, check the action against the permission matrix.

use chrono::{DateTime, Utc};
use leptos::prelude::use_context;
use sqlx::PgConnection;

use super::{
    audit::{self, Actor, AuditAction, Event},
    session::{self, RequestMeta, SessionRow},
    state::{app_state, AppState},
};
use crate::{
    domain::{Access, MemberStatus, Permission, Plan, Positions},
    error::AppError,
};

/// A signed-in account, before any workspace is involved.
#[derive(Debug, Clone)]
pub struct AccountCtx {
    /// The account the session is for: while an Owner views as someone,
    /// that person.
    pub account_id: i64,
    /// The Owner viewing as `account_id` ("Log in as user"), if any. Only
    /// `require_account_even_impersonating` lets such a session through.
    pub impersonator_account_id: Option<i64>,
    pub session: SessionRow,
    pub meta: RequestMeta,
}

impl AccountCtx {
    pub fn actor(&self) -> Actor {
        match self.impersonator_account_id {
            Some(owner) => Actor::new(owner, Some(self.account_id), &self.meta),
            None => Actor::new(self.account_id, None, &self.meta),
        }
    }

    /// Records `event` as done by this account, in the transaction of the
    /// change it describes.
    pub async fn record(&self, conn: &mut PgConnection, event: Event) -> Result<(), AppError> {
        audit::record(conn, &self.actor(), event).await
    }
}

/// A signed-in, active member allowed to perform one action in one workspace.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The person really making the request.
    pub actor_account_id: i64,
    /// The account the request acts as: the actor, until impersonation.
    pub subject_account_id: i64,
    pub workspace_id: i64,
    pub plan: Plan,
    pub membership_id: i64,
    pub positions: Positions,
    /// `Scoped` means read-only on the actor's own team or projects.
    pub access: Access,
    pub session: SessionRow,
    pub meta: RequestMeta,
}

impl Ctx {
    /// An Owner viewing the workspace as this member ("Log in as user").
    pub fn is_impersonating(&self) -> bool {
        self.session.impersonator_account_id.is_some()
    }

    pub fn actor(&self) -> Actor {
        let acting_as =
            (self.subject_account_id != self.actor_account_id).then_some(self.subject_account_id);
        Actor::new(self.actor_account_id, acting_as, &self.meta)
    }

    /// An audit event in this workspace.
    pub fn event(&self, action: AuditAction) -> Event {
        Event::new(Some(self.workspace_id), action)
    }

    /// Records `event` as done by this caller (and whom they view as), in
    /// the transaction of the change it describes.
    pub async fn record(&self, conn: &mut PgConnection, event: Event) -> Result<(), AppError> {
        audit::record(conn, &self.actor(), event).await
    }
}

/// The session of the request being served. The API middleware has usually
/// loaded it already (and put it in the request extensions); pages load it
/// from the cookie here.
async fn current_session(state: &AppState) -> Result<(SessionRow, RequestMeta), AppError> {
    match request_session(state)? {
        RequestSession::Loaded(row, meta) => Ok((row, meta)),
        RequestSession::Cookie(token, meta) => {
            let mut conn = state.pool.acquire().await?;
            Ok((load_by_cookie(&mut conn, &token, state).await?, meta))
        }
    }
}

/// `current_session` on a connection the caller already holds.
async fn current_session_on(
    state: &AppState,
    conn: &mut PgConnection,
) -> Result<(SessionRow, RequestMeta), AppError> {
    match request_session(state)? {
        RequestSession::Loaded(row, meta) => Ok((row, meta)),
        RequestSession::Cookie(token, meta) => {
            Ok((load_by_cookie(conn, &token, state).await?, meta))
        }
    }
}

/// The request's session as the API middleware loaded it, or the cookie
/// to load it by.
enum RequestSession {
    Loaded(SessionRow, RequestMeta),
    Cookie(String, RequestMeta),
}

fn request_session(state: &AppState) -> Result<RequestSession, AppError> {
    let parts = use_context::<http::request::Parts>()
        .ok_or_else(|| AppError::bug("request parts missing from the server function context"))?;
    let meta = RequestMeta::from_parts(&parts, &state.auth);
    if let Some(row) = parts.extensions.get::<SessionRow>() {
        return Ok(RequestSession::Loaded(row.clone(), meta));
    }
    let token = session::token_from_headers(&parts.headers, &state.auth)
        .ok_or(AppError::Unauthenticated)?;
    Ok(RequestSession::Cookie(token, meta))
}

async fn load_by_cookie(
    conn: &mut PgConnection,
    token: &str,
    state: &AppState,
) -> Result<SessionRow, AppError> {
    session::load(conn, token, &state.auth)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// What an Owner or Admin is told until they turn two-factor on.
pub const TWO_FACTOR_REQUIRED: &str =
    "This workspace requires Owners and Admins to use two-factor authentication. Turn it on in your profile.";

/// Any signed-in account, acting for itself. Refuses an Owner viewing as
/// someone: account-level functions (password, email, two-factor,
/// sessions, workspaces, invitations) are the person's own, so a new one is
/// out of an impersonator's reach unless it opts in explicitly.
pub async fn require_account() -> Result<AccountCtx, AppError> {
    let ctx = require_account_even_impersonating().await?;
    refuse_while_impersonating(
        &ctx.session,
        "change their password, email, two-factor, sessions, API keys or workspaces",
    )
    .await?;
    Ok(ctx)
}

/// Any signed-in account, including an Owner viewing as someone: only for
/// what the view itself needs (who is signed in, the bell, sign out, "Back
/// to my view"). Callers decide what an impersonator sees.
pub async fn require_account_even_impersonating() -> Result<AccountCtx, AppError> {
    let state = app_state()?;
    let (session, meta) = current_session(&state).await?;
    Ok(AccountCtx {
        account_id: session.account_id,
        impersonator_account_id: session.impersonator_account_id,
        session,
        meta,
    })
}

/// Refuses, with a message naming the person, when `session` is an
/// Owner's view as someone ("Log in as user"). For functions guarded by
/// `require(action)` that touch the person's credentials: Kiosk PIN, API
/// keys. Call it right after the guard with what is refused, e.g.
/// `guard::refuse_while_impersonating(&ctx.session, "manage their API keys").await?`.
/// `require_account()` already does this for every account-level function.
pub async fn refuse_while_impersonating(session: &SessionRow, what: &str) -> Result<(), AppError> {
    if session.impersonator_account_id.is_none() {
        return Ok(());
    }
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let name = super::impersonation::subject_name(&mut conn, session.account_id).await?;
    Err(super::impersonation::refusal(&name, what))
}

/// An active member of the session's workspace who may perform `action`.
pub async fn require(action: Permission) -> Result<Ctx, AppError> {
    let state = app_state()?;
    let (session, meta) = current_session(&state).await?;
    let mut conn = state.pool.acquire().await?;
    authorize(&mut conn, session, meta, action).await
}

/// `require` on the connection the function goes on to use, for the
/// Team page's list and count (called on every keystroke of a search): one
/// connection from the pool per request instead of two.
pub async fn require_on(conn: &mut PgConnection, action: Permission) -> Result<Ctx, AppError> {
    let state = app_state()?;
    let (session, meta) = current_session_on(&state, conn).await?;
    authorize(conn, session, meta, action).await
}

struct MembershipRow {
    membership_id: i64,
    status: MemberStatus,
    is_admin: bool,
    is_project_manager: bool,
    is_team_manager: bool,
    last_active_at: Option<DateTime<Utc>>,
    plan: Plan,
    owner_account_id: i64,
    /// The workspace asks Owners and Admins for two-factor and this
    /// account has none.
    lacks_required_two_factor: bool,
}

/// `require` again inside the write's own transaction, for writes whose
/// permission must still hold when they commit: roles, deactivation and
/// deletion, ownership, the plan, bulk actions, the Owner's account
/// actions. It locks the workspace row (`workspace::lock`), then the
/// actor's membership row `FOR SHARE`, then checks: a demotion,
/// deactivation or ownership transfer of the actor that committed
/// meanwhile is seen and the write refused; one still running is waited
/// for, then seen; one that starts later waits until this write commits.
/// Always the workspace first, so two such writes queue instead of
/// deadlocking (two Admins deactivating each other: the second is refused).
/// Call it first in the transaction, with the `Ctx` from `require` (or an
/// API key), which kept "last active" current outside the lock.
pub async fn require_in(
    conn: &mut PgConnection,
    ctx: &Ctx,
    action: Permission,
) -> Result<Ctx, AppError> {
    super::workspace::lock(&mut *conn, ctx.workspace_id).await?;
    sqlx::query_scalar!(
        "SELECT id FROM memberships WHERE workspace_id = $1 AND id = $2 FOR SHARE",
        ctx.workspace_id,
        ctx.membership_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::Forbidden)?;
    let fresh = check(
        conn,
        ctx.session.clone(),
        ctx.meta.clone(),
        action,
        LastActive::Leave,
    )
    .await?;
    // The account's membership was replaced (deleted, invited again) in
    // between: not the member the first check let in.
    if fresh.membership_id != ctx.membership_id || fresh.workspace_id != ctx.workspace_id {
        return Err(AppError::Forbidden);
    }
    Ok(fresh)
}

/// The two permissions of a request about "myself or someone I may
/// manage": `own` for the caller's own record, `others` for anyone else's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MyselfOr {
    pub own: Permission,
    pub others: Permission,
}

impl MyselfOr {
    /// A profile: one's own with EditOwnProfile, anyone else's with
    /// EditMemberProfile (the editor, its photo, the Kiosk PIN, REST).
    pub const PROFILE: Self = Self {
        own: Permission::EditOwnProfile,
        others: Permission::EditMemberProfile,
    };
    /// Time entries: one's own with TrackOwnTime, anyone else's with
    /// ViewReports (a manager sees only their own people).
    pub const TIME: Self = Self {
        own: Permission::TrackOwnTime,
        others: Permission::ViewReports,
    };

    /// The permission a request about `target` needs from `caller`.
    pub fn permission(self, caller: i64, target: i64) -> Permission {
        if caller == target {
            self.own
        } else {
            self.others
        }
    }
}

/// Whom a request is about, once "myself or someone I may manage" holds.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The caller, checked for the permission this subject needs.
    pub ctx: Ctx,
    pub membership_id: i64,
    pub is_self: bool,
}

/// The one guard for a request that names a member or, without one, means
/// the caller: their own record needs `rule.own`; another member's needs
/// `rule.others` and that member within the caller's reach (`NotFound`
/// for a manager asking about someone outside their people, as for a
/// member of another workspace).
pub async fn authorize_subject(
    conn: &mut PgConnection,
    session: SessionRow,
    meta: RequestMeta,
    target: Option<i64>,
    rule: MyselfOr,
) -> Result<Subject, AppError> {
    let ctx = authorize(conn, session.clone(), meta.clone(), rule.own).await?;
    let membership_id = target.unwrap_or(ctx.membership_id);
    if membership_id == ctx.membership_id {
        return Ok(Subject {
            ctx,
            membership_id,
            is_self: true,
        });
    }
    let ctx = check(conn, session, meta, rule.others, LastActive::Leave).await?;
    reach(conn, ctx, membership_id).await
}

/// `authorize_subject` for the signed-in session of a server function.
pub async fn require_subject(target: Option<i64>, rule: MyselfOr) -> Result<Subject, AppError> {
    let state = app_state()?;
    let (session, meta) = current_session(&state).await?;
    let mut conn = state.pool.acquire().await?;
    authorize_subject(&mut conn, session, meta, target, rule).await
}

/// Another member as the subject of `ctx`, which already holds the
/// `others` permission (an API key's caller): NotFound unless the member
/// is in `ctx`'s workspace and, for a manager, one of their own people.
pub async fn reach(
    conn: &mut PgConnection,
    ctx: Ctx,
    membership_id: i64,
) -> Result<Subject, AppError> {
    let scope = super::directory::Scope::of(&ctx);
    if !super::directory::may_see(conn, ctx.workspace_id, scope, membership_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Subject {
        ctx,
        membership_id,
        is_self: false,
    })
}

/// Whether a check writes "last active" (see `require_in`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum LastActive {
    Touch,
    Leave,
}

/// The database half of `require`, callable from tests with any session.
pub async fn authorize(
    conn: &mut PgConnection,
    session: SessionRow,
    meta: RequestMeta,
    action: Permission,
) -> Result<Ctx, AppError> {
    check(conn, session, meta, action, LastActive::Touch).await
}

async fn check(
    conn: &mut PgConnection,
    session: SessionRow,
    meta: RequestMeta,
    action: Permission,
    last_active: LastActive,
) -> Result<Ctx, AppError> {
    let workspace_id = session.active_workspace_id.ok_or(AppError::Forbidden)?;
    let row = sqlx::query_as!(
        MembershipRow,
        "SELECT m.id AS membership_id, m.status AS \"status: MemberStatus\", m.is_admin,
                m.is_project_manager,
                m.is_team_manager, m.last_active_at, w.plan AS \"plan: Plan\", w.owner_account_id,
                (w.require_two_factor AND NOT EXISTS (
                    SELECT 1 FROM two_factor t
                     WHERE t.account_id = m.account_id AND t.enabled_at IS NOT NULL)) AS \"lacks_required_two_factor!\"
           FROM memberships m
           JOIN accounts a ON a.id = m.account_id
           JOIN workspaces w ON w.id = m.workspace_id
          WHERE m.workspace_id = $1 AND m.account_id = $2",
        workspace_id,
        session.account_id,
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::Forbidden)?;
    if row.status != MemberStatus::Active {
        return Err(AppError::Forbidden);
    }
    let plan = row.plan;
    let positions = Positions {
        owner: row.owner_account_id == session.account_id,
        admin: row.is_admin,
        project_manager: row.is_project_manager,
        team_manager: row.is_team_manager,
    };
    let access = positions.access(action, plan);
    if access == Access::Denied {
        return Err(AppError::Forbidden);
    }
    // Owners and Admins of a workspace that requires two-factor do nothing
    // there until they turn it on (on their profile, which stays open).
    if row.lacks_required_two_factor
        && (positions.owner || positions.admin)
        && action != Permission::EditOwnProfile
    {
        return Err(AppError::Conflict(TWO_FACTOR_REQUIRED.into()));
    }
    // "Last active" on the Team page; written at most every five minutes.
    let stale = last_active == LastActive::Touch
        && row
            .last_active_at
            .is_none_or(|seen| Utc::now() - seen > chrono::Duration::minutes(5));
    if stale {
        sqlx::query!(
            "UPDATE memberships SET last_active_at = now() WHERE workspace_id = $1 AND id = $2",
            workspace_id,
            row.membership_id,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(Ctx {
        // A view as someone was checked when the session loaded
        // (`session::load`): the Owner is still the Owner, the switch is on.
        actor_account_id: session
            .impersonator_account_id
            .unwrap_or(session.account_id),
        subject_account_id: session.account_id,
        workspace_id,
        plan,
        membership_id: row.membership_id,
        positions,
        access,
        session,
        meta,
    })
}

/// `authorize` for a request made with a workspace API key: the key's
/// membership goes through the same membership, plan, two-factor and
/// permission checks as a signed-in person, so a plain member's key cannot
/// do an Admin's work. There is no session behind a key: the stand-in row
/// has no token (nothing the REST API calls reads it) and no impersonator.
pub async fn authorize_api_key(
    conn: &mut PgConnection,
    key: &super::api_keys::ApiKeyCtx,
    meta: RequestMeta,
    action: Permission,
) -> Result<Ctx, AppError> {
    let session = SessionRow {
        token_hash: Vec::new(),
        account_id: key.account_id,
        active_workspace_id: Some(key.workspace_id),
        expires_at: DateTime::<Utc>::MAX_UTC,
        impersonator_account_id: None,
    };
    let ctx = authorize(conn, session, meta, action).await?;
    // The key was checked against this very membership a moment ago; a
    // different one here means the account's membership changed in between.
    if ctx.membership_id != key.membership_id {
        return Err(AppError::Unauthenticated);
    }
    Ok(ctx)
}
