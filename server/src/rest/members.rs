//! `/api/v1/members`: the Team page's list (same filters, search, sort and
//! keyset cursor), one member, roles, deactivate, reactivate, delete. Each
//! handler calls the rule function the page calls.

use app::{
    api::{
        lifecycle::{self, Change, RoleName},
        members::{self as team, MemberRow},
    },
    domain::{
        directory::{DirectoryParams, DirectoryQuery},
        Action,
    },
    server::AppState,
};
use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ok, refused, ApiPath, ApiQuery, ApiResult, Caller};

/// Which members a list shows (the Team page's status filter).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusParam {
    /// Active and pending (the default).
    Current,
    Active,
    Pending,
    Inactive,
    All,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleParam {
    Owner,
    Admin,
    ProjectManager,
    TeamManager,
    /// No role at all.
    Member,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindParam {
    Full,
    Limited,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortParam {
    Name,
    Email,
    Roles,
    Groups,
    Status,
    Kind,
    LastActive,
    Added,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirParam {
    Asc,
    Desc,
}

/// The Team page's view of the list, as query parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Up to 8 words to find in name, email, groups or team manager
    /// (accents and case folded, like the Team page's search box).
    #[param(
        max_length = 200,
        pattern = r"^ *([^\s\x00-\x1f\x7f-\x9f]+ +){0,7}[^\s\x00-\x1f\x7f-\x9f]* *$"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub status: Option<StatusParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub role: Option<RoleParam>,
    /// A group id.
    #[param(minimum = 1)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub kind: Option<KindParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub sort: Option<SortParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub dir: Option<DirParam>,
    /// The `cursor` of the previous page's `next` link (one from another
    /// view or workspace is a 409).
    #[param(max_length = 2048)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The URL word of an enum value (`project_manager`).
fn word<T: Serialize>(value: &Option<T>) -> Option<String> {
    value
        .as_ref()
        .and_then(|v| serde_json::to_value(v).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
}

impl MemberQuery {
    fn view(&self) -> DirectoryParams {
        DirectoryParams {
            q: self.q.clone(),
            status: word(&self.status),
            role: word(&self.role),
            group: self.group.map(|g| g.to_string()),
            kind: word(&self.kind),
            sort: word(&self.sort),
            dir: word(&self.dir),
        }
    }
}

/// A member as the Team page lists them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// The membership id: what every `/members/{id}` path takes.
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    /// Any of `owner`, `admin`, `project_manager`, `team_manager`; empty for a plain member.
    pub roles: Vec<String>,
    /// `active`, `pending` or `inactive`.
    pub status: String,
    /// `full` or `limited` (Kiosk only).
    pub kind: String,
    pub groups: Vec<String>,
    pub team_manager: Option<String>,
    /// Sign-in is paused after failed attempts.
    pub locked: bool,
    pub last_active_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Pending members: their latest invitation's state (`open`, `expired`...).
    pub invite_state: Option<String>,
}

impl From<MemberRow> for Member {
    fn from(row: MemberRow) -> Self {
        let p = row.positions;
        let roles = [
            (p.owner, "owner"),
            (p.admin, "admin"),
            (p.project_manager, "project_manager"),
            (p.team_manager, "team_manager"),
        ]
        .into_iter()
        .filter(|(held, _)| *held)
        .map(|(_, name)| name.to_owned())
        .collect();
        Self {
            id: row.membership_id,
            name: row.name,
            email: row.email,
            roles,
            status: row.status,
            kind: row.kind,
            groups: row.groups,
            team_manager: row.team_manager,
            locked: row.locked,
            last_active_at: row.last_active_at,
            created_at: row.created_at,
            invite_state: row.invite_state,
        }
    }
}

/// One page of members (at most 50).
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub data: Vec<Member>,
    /// The next page's URL (same view, with its cursor); null on the last page.
    pub next: Option<String>,
}

/// One member with their projects.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDetail {
    #[serde(flatten)]
    pub member: Member,
    pub projects: Vec<String>,
    /// Tracks time on every project, not only `projects`.
    pub all_projects: bool,
}

/// Lists members, 50 a page, in the key's scope: everyone for Owners and
/// Admins, their own people for managers.
#[utoipa::path(get, path = "/api/v1/members", tag = "members", params(MemberQuery),
    responses((status = 200, description = "One page of members", body = MemberList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MemberQuery>,
) -> ApiResult<Response> {
    let view = query.view();
    DirectoryQuery::parse(&view)?;
    let (ctx, mut conn) = caller.ctx(&state, Action::ViewTeam).await?;
    let page = team::member_page(&mut conn, &ctx, &view, query.cursor.as_deref())
        .await
        .map_err(refused)?;
    let next = page.next.map(|cursor| {
        let next = MemberQuery {
            cursor: Some(cursor),
            ..query.clone()
        };
        format!(
            "/api/v1/members?{}",
            serde_urlencoded::to_string(&next).unwrap_or_default()
        )
    });
    Ok(ok(
        StatusCode::OK,
        &MemberList {
            data: page.rows.into_iter().map(Member::from).collect(),
            next,
        },
    ))
}

/// One member (404 outside the key's workspace or scope).
#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 200, description = "The member", body = MemberDetail)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (ctx, mut conn) = caller.ctx(&state, Action::ViewTeam).await?;
    let card = team::member_card(&mut conn, &ctx, id).await?;
    Ok(ok(
        StatusCode::OK,
        &MemberDetail {
            member: card.row.into(),
            projects: card.projects,
            all_projects: card.all_projects,
        },
    ))
}

/// Deactivate, reactivate or delete, in one transaction with the audit row.
async fn change(state: &AppState, caller: &Caller, id: i64, what: Change) -> ApiResult<Response> {
    let (ctx, conn) = caller.ctx(state, Action::ManageMembers).await?;
    drop(conn);
    let mut tx = state.pool.begin().await?;
    let workspace = lifecycle::lock_workspace(&mut tx, &ctx).await?;
    lifecycle::apply_status(&mut tx, &ctx, &workspace, id, what)
        .await
        .map_err(refused)?;
    tx.commit().await?;
    Ok(no_content())
}

pub fn no_content() -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// Deactivates a member: access ends on their next request, their API
/// keys are revoked, a running timer is saved, the seat is freed.
#[utoipa::path(post, path = "/api/v1/members/{id}/deactivate", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 204, description = "Deactivated")))]
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    change(&state, &caller, id, Change::Deactivate).await
}

/// Gives an inactive member access again (needs a free seat on paid plans).
#[utoipa::path(post, path = "/api/v1/members/{id}/reactivate", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 204, description = "Reactivated")))]
pub async fn reactivate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    change(&state, &caller, id, Change::Reactivate).await
}

/// Deletes an inactive member for good; their hours stay under "Deleted user".
#[utoipa::path(delete, path = "/api/v1/members/{id}", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    change(&state, &caller, id, Change::Delete).await
}

/// A role one can give or take.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ProjectManager,
    TeamManager,
}

impl From<Role> for RoleName {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => RoleName::Admin,
            Role::ProjectManager => RoleName::ProjectManager,
            Role::TeamManager => RoleName::TeamManager,
        }
    }
}

async fn set_role(
    state: &AppState,
    caller: &Caller,
    (id, role): (i64, Role),
    on: bool,
) -> ApiResult<Response> {
    let role = RoleName::from(role);
    let (ctx, conn) = caller.ctx(state, lifecycle::role_action(role, on)).await?;
    drop(conn);
    let mut tx = state.pool.begin().await?;
    lifecycle::apply_role(&mut tx, &ctx, id, role, on)
        .await
        .map_err(refused)?;
    tx.commit().await?;
    Ok(no_content())
}

/// Gives a role (Admin: Owners and Admins; manager roles likewise).
#[utoipa::path(put, path = "/api/v1/members/{id}/roles/{role}", tag = "members",
    params(("id" = i64, Path, description = "Membership id"),
           ("role" = Role, Path, description = "The role")),
    responses((status = 204, description = "The member holds the role")))]
pub async fn give_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(path): ApiPath<(i64, Role)>,
) -> ApiResult<Response> {
    set_role(&state, &caller, path, true).await
}

/// Takes a role away (Admin: the Owner only).
#[utoipa::path(delete, path = "/api/v1/members/{id}/roles/{role}", tag = "members",
    params(("id" = i64, Path, description = "Membership id"),
           ("role" = Role, Path, description = "The role")),
    responses((status = 204, description = "The member no longer holds the role")))]
pub async fn take_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(path): ApiPath<(i64, Role)>,
) -> ApiResult<Response> {
    set_role(&state, &caller, path, false).await
}
